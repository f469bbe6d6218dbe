{ config, ... }:
{
  services.rke2 = {
    enable = true;
    role = "server";
    tokenFile = config.sops.secrets."rke2/token".path;
  };

  sops.secrets."rke2/token" = {
    sopsFile = ../../secrets/host1.yaml;
    restartUnits = [ "rke2-server.service" ];
  };
}
