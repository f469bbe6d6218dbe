{ config, ... }:
{
  services.foo.apiKey = "@UNKNOWN_OPTION@";
  services.prometheus.alertmanager.configuration.receivers = [
    { name = "x"; pushover_configs = [ { token = "example-@PARTIAL@"; } ]; }
  ];
  services.borgbackup.jobs.x.encryption.passCommand = "printf %s @NOT_ECHO@";
  services.nginx.virtualHosts."a".basicAuth = { "a b" = "@SPACE_IN_USER@"; };
  services.nginx.virtualHosts."b" = { basicAuth.u = "@BOTH@"; basicAuthFile = "/x"; };
  services.home-assistant = { configDir = "/srv/hass"; config.influxdb.password = "@HASS@"; };
}
