{ config, ... }:
{
  services.ddclient = {
    enable = true;
    protocol = "cloudflare";
    passwordFile = config.sops.secrets."ddclient/password".path;
  };
  services.k3s.tokenFile = config.sops.secrets."k3s/token".path;
  services.syncthing = {
    enable = true;
    settings.gui = {
      user = "stian";
    };
    guiPasswordFile = config.sops.secrets."syncthing/gui/password".path;
  };
  services.nextcloud.config.adminpassFile = config.sops.secrets."nextcloud/adminpass".path;

  sops.secrets."ddclient/password" = {
    sopsFile = ../../secrets/host1.yaml;
    restartUnits = [ "ddclient.service" ];
  };
  sops.secrets."k3s/token" = {
    sopsFile = ../../secrets/host1.yaml;
    restartUnits = [ "k3s.service" ];
  };
  sops.secrets."syncthing/gui/password" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = config.services.syncthing.user;
    restartUnits = [ "syncthing.service" ];
  };
  sops.secrets."nextcloud/adminpass" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = "nextcloud";
  };
}
