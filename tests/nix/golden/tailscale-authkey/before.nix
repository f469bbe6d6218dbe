# Every host joins the tailnet.
{ pkgs, ... }:
{
  services.tailscale = {
    enable = true;
    extraUpFlags = [
      "--ssh"
      "--authkey=@TS_AUTHKEY@"
    ];
  };
}
