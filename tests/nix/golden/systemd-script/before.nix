{ config, ... }:
{
  systemd.services.backup-notify = {
    serviceConfig.Type = "oneshot";
    script = ''
      curl -s \
        -F "token=@PUSHOVER_TOKEN@" \
        -F user=@PUSHOVER_USER@ \
        -F "message=backup failed on ${config.networking.hostName}" \
        https://api.pushover.net/1/messages.json
    '';
  };
  systemd.services.nas-ping = {
    serviceConfig.User = "pinger";
    preStart = "curl -fsS -u 'backup:@NAS_PASSWORD@' https://nas.lan/api/ping";
  };
}
