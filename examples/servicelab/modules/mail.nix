# Outgoing mail for the forge and the sync box (system mail: smartd, backups).
{ ... }:
{
  programs.msmtp = {
    enable = true;
    accounts.default = {
      host = "smtp.example.net";
      port = 587;
      tls = true;
      auth = true;
      user = "lab@example.net";
      password = "@SMTP_PASSWORD@";
    };
  };
}
