{ config, ... }:
{
  services.miniflux = {
    enable = true;
    config = {
      LISTEN_ADDR = "127.0.0.1:8081";
      ADMIN_USERNAME = "admin";
    };
    adminCredentialsFile = config.sops.templates."miniflux-admin.env".path;
  };

  sops.secrets."miniflux/admin-password" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."miniflux-admin.env" = {
    content = ''
      ADMIN_PASSWORD=${config.sops.placeholder."miniflux/admin-password"}
    '';
    restartUnits = [ "miniflux.service" ];
  };
}
