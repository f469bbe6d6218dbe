{ config, pkgs, ... }:
{
  systemd.services.notifier = {
    wantedBy = [ "multi-user.target" ];
    serviceConfig = {
      ExecStart = "${pkgs.hello}/bin/hello";
      Environment = [
        "NTFY_TOPIC=alerts"
      ];
      EnvironmentFile = [ config.sops.templates."notifier.env".path ];
    };
  };

  sops.secrets."notifier/ntfy_token" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."notifier.env" = {
    content = ''
      NTFY_TOKEN=${config.sops.placeholder."notifier/ntfy_token"}
    '';
    restartUnits = [ "notifier.service" ];
  };
}
