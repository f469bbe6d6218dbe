{ config, ... }:
{
  services.syncthing = {
    enable = true;
    settings.gui = {
      user = "stian";
    };
    guiPasswordFile = config.sops.secrets."syncthing/gui/password".path;
  };

  sops.secrets."syncthing/gui/password" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = config.services.syncthing.user;
    restartUnits = [ "syncthing-init.service" ];
  };
}
