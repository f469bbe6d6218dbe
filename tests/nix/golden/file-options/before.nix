{ config, ... }:
{
  services.ddclient = {
    enable = true;
    protocol = "cloudflare";
    password = "@DDCLIENT_PASSWORD@";
  };
  services.k3s.token = "@K3S_TOKEN@";
  services.syncthing = {
    enable = true;
    settings.gui = {
      user = "stian";
      password = "@SYNCTHING_GUI@";
    };
  };
  services.nextcloud.config.adminpass = "@NEXTCLOUD_ADMIN@";
}
