{ config, pkgs, ... }:
{
  systemd.services.exporter = {
    wantedBy = [ "multi-user.target" ];
    environment = {
      LISTEN = "0.0.0.0:9100";
    };
    serviceConfig.ExecStart = "${pkgs.hello}/bin/hello";
    serviceConfig.EnvironmentFile = [ config.sops.templates."exporter.env".path ];
  };

  sops.secrets."exporter/api_token" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."exporter.env" = {
    content = ''
      API_TOKEN=${config.sops.placeholder."exporter/api_token"}
    '';
    restartUnits = [ "exporter.service" ];
  };
}
