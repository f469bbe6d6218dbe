{ config, pkgs, ... }:
{
  systemd.services.exporter = {
    wantedBy = [ "multi-user.target" ];
    environment = {
      LISTEN = "0.0.0.0:9100";
      API_TOKEN = "@EXPORTER_TOKEN@";
    };
    serviceConfig.ExecStart = "${pkgs.hello}/bin/hello";
  };
}
