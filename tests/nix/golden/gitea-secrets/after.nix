{ config, ... }:
{
  services.gitea = {
    enable = true;
    database.passwordFile = config.sops.secrets."gitea/database/password".path;
    settings.mailer = {
      ENABLED = true;
      USER = "gitea@example.net";
    };
    mailerPasswordFile = config.sops.secrets."gitea/mailer/passwd".path;
  };

  sops.secrets."gitea/database/password" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = config.services.gitea.user;
    restartUnits = [ "gitea.service" ];
  };
  sops.secrets."gitea/mailer/passwd" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = config.services.gitea.user;
    restartUnits = [ "gitea.service" ];
  };
}
