{ ... }:
{
  services.vaultwarden = {
    enable = true;
    config = {
      DOMAIN = "https://vault.example.net";
      ADMIN_TOKEN = "@VW_ADMIN_TOKEN@";
      smtpPassword = "@VW_SMTP@";
    };
  };
}
