{ config, ... }:
{
  services.immich = {
    enable = true;
    environment = {
      IMMICH_LOG_LEVEL = "log";
    };
    secretsFile = config.sops.templates."immich.env".path;
  };

  sops.secrets."immich/db-password" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."immich.env" = {
    content = ''
      DB_PASSWORD=${config.sops.placeholder."immich/db-password"}
    '';
    restartUnits = [ "immich-server.service" ];
  };
}
