{ config, ... }:
{
  systemd.services.backup-notify = {
    serviceConfig.Type = "oneshot";
    script = ''
      curl -s \
        -F "token=$(< ${config.sops.secrets."backup-notify/token".path})" \
        -F user="$(< ${config.sops.secrets."backup-notify/user".path})" \
        -F "message=backup failed on ${config.networking.hostName}" \
        https://api.pushover.net/1/messages.json
    '';
  };
  systemd.services.nas-ping = {
    serviceConfig.User = "pinger";
    preStart = "curl -fsS -u 'backup:'\"$(< ${config.sops.secrets."nas-ping/prestart".path})\" https://nas.lan/api/ping";
  };

  sops.secrets."backup-notify/token" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.secrets."backup-notify/user" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.secrets."nas-ping/prestart" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = "pinger";
    restartUnits = [ "nas-ping.service" ];
  };
}
