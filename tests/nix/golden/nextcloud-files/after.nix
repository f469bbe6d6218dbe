{ config, pkgs, ... }:
{
  services.nextcloud = {
    enable = true;
    hostName = "cloud.example.invalid";
    config.adminpassFile = config.sops.secrets."nextcloud/adminpass".path;
    config.dbpassFile = config.sops.secrets."nextcloud/dbpass".path;
  };

  sops.secrets."nextcloud/adminpass" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = (if builtins.compareVersions config.system.nixos.release "25.05" >= 0 then "root" else "nextcloud");
    restartUnits = [ "nextcloud-setup.service" ];
  };
  sops.secrets."nextcloud/dbpass" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = (if builtins.compareVersions config.system.nixos.release "25.05" >= 0 then "root" else "nextcloud");
    restartUnits = [ "nextcloud-setup.service" ];
  };
}
