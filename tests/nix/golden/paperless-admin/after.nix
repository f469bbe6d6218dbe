{ config, ... }:
{
  services.paperless = {
    enable = true;
    passwordFile = config.sops.secrets."paperless/paperless_admin_password".path;
  };

  sops.secrets."paperless/paperless_admin_password" = {
    sopsFile = ../../secrets/host1.yaml;
    restartUnits = [ "paperless-scheduler.service" ];
  };
}
