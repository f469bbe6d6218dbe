{ config, pkgs, ... }:
{
  services.tailscale = {
    enable = true;
    authKeyFile = pkgs.writeText "ts-key" "@TS_AUTHKEY@";
  };
}
