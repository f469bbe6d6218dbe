{ config, ... }:
{
  services.ddclient = {
    enable = true;
    protocol = "cloudflare";
    password = "@DDCLIENT_PASSWORD@";
  };
}
