{ config, ... }:
{
  services.syncthing = {
    enable = true;
    guiAddress = "0.0.0.0:8384";
    settings.gui = {
      user = "stian";
    };
  };
  systemd.services.syncthing.serviceConfig.EnvironmentFile = config.sops.templates."syncthing-gui.env".path;

  sops.secrets."syncthing/gui/apikey" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."syncthing-gui.env" = {
    content = ''
      STGUIAPIKEY=${config.sops.placeholder."syncthing/gui/apikey"}
    '';
    restartUnits = [ "syncthing.service" ];
  };
}
