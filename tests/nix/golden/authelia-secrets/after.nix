{ config, ... }:
{
  services.authelia.instances.main = {
    enable = true;
    secrets.storageEncryptionKeyFile = "/var/lib/authelia-main/storage-key";
    settings = {
      theme = "dark";
      notifier.smtp = {
        address = "submissions://smtp.example.net:465";
        username = "auth@example.net";
      };
    };
    secrets.oidcHmacSecretFile = config.sops.secrets."authelia/main/oidc-hmac-secret".path;
    secrets.jwtSecretFile = config.sops.secrets."authelia/main/jwt-secret".path;
    environmentVariables.AUTHELIA_NOTIFIER_SMTP_PASSWORD_FILE = config.sops.secrets."authelia/main/smtp-password".path;
  };

  sops.secrets."authelia/main/oidc-hmac-secret" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = config.services.authelia.instances.main.user;
    restartUnits = [ "authelia-main.service" ];
  };
  sops.secrets."authelia/main/jwt-secret" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = config.services.authelia.instances.main.user;
    restartUnits = [ "authelia-main.service" ];
  };
  sops.secrets."authelia/main/smtp-password" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = config.services.authelia.instances.main.user;
    restartUnits = [ "authelia-main.service" ];
  };
}
