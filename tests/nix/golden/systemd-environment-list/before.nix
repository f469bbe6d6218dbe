{ config, pkgs, ... }:
{
  systemd.services.notifier = {
    wantedBy = [ "multi-user.target" ];
    serviceConfig = {
      ExecStart = "${pkgs.hello}/bin/hello";
      Environment = [
        "NTFY_TOPIC=alerts"
        "NTFY_TOKEN=@NTFY_TOKEN@"
      ];
    };
  };
}
