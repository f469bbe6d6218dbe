# Prometheus scrapes Syncthing with its API key; Grafana; Alertmanager to Pushover.
{ ... }:
{
  networking.hostName = "monitor";
  boot.loader.grub.device = "/dev/sda";
  fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };

  services.prometheus = {
    enable = true;
    scrapeConfigs = [
      {
        job_name = "syncthing";
        static_configs = [ { targets = [ "sync:8384" ]; } ];
        authorization = {
          type = "Bearer";
          credentials = "@SYNCTHING_API_KEY@";
        };
      }
    ];
    alertmanager = {
      enable = true;
      configuration = {
        route.receiver = "pushover";
        receivers = [
          {
            name = "pushover";
            pushover_configs = [
              {
                token = "@PUSHOVER_TOKEN@";
                user_key = "@PUSHOVER_USER_KEY@";
              }
            ];
          }
        ];
      };
    };
  };

  services.grafana = {
    enable = true;
    settings.security = {
      admin_user = "ops";
      admin_password = "@GRAFANA_ADMIN_PASSWORD@";
      secret_key = "@GRAFANA_SECRET_KEY@";
    };
  };
}
