# Every host joins the tailnet.
{ config, pkgs, ... }:
{
  services.tailscale = {
    enable = true;
    extraUpFlags = [
      "--ssh"
    ];
    authKeyFile = config.sops.secrets."tailscale/authkey".path;
  };

  sops.secrets."tailscale/authkey" = {
    sopsFile = ../../secrets/host1.yaml;
    restartUnits = [ "tailscaled-autoconnect.service" ];
  };
}
