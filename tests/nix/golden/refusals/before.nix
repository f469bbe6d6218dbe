{ config, ... }:
{
  services.foo.apiKey = "@UNKNOWN_OPTION@";
  services.prometheus.alertmanager.configuration.receivers = [
    { name = "x"; pushover_configs = [ { token = "example-@PARTIAL@"; } ]; }
  ];
  services.borgbackup.jobs.x.encryption.passCommand = "printf %s @NOT_ECHO@";
}
