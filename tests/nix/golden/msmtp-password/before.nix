{ ... }:
{
  programs.msmtp = {
    enable = true;
    accounts.default = {
      host = "smtp.example.net";
      auth = true;
      user = "alerts@example.net";
      password = "@SMTP_PASSWORD@";
    };
    accounts.backup = {
      host = "smtp.example.net";
      passwordeval = "echo @SMTP_BACKUP@";
    };
  };
}
