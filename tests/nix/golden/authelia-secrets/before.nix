{ config, ... }:
{
  services.authelia.instances.main = {
    enable = true;
    secrets.storageEncryptionKeyFile = "/var/lib/authelia-main/storage-key";
    settings = {
      theme = "dark";
      identity_providers.oidc.hmac_secret = "@AUTHELIA_HMAC@";
      identity_validation.reset_password.jwt_secret = "@AUTHELIA_JWT@";
      notifier.smtp = {
        address = "submissions://smtp.example.net:465";
        username = "auth@example.net";
        password = "@AUTHELIA_SMTP@";
      };
    };
  };
}
