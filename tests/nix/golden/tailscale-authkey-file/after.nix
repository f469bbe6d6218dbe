{ config, pkgs, ... }:
{
  services.tailscale = {
    enable = true;
    authKeyFile = config.sops.secrets."tailscale/authkey".path;
  };

  sops.secrets."tailscale/authkey" = {
    sopsFile = ../../secrets/host1.yaml;
    restartUnits = [ "tailscaled-autoconnect.service" ];
  };
}
