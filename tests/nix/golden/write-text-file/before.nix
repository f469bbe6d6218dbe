{ config, pkgs, ... }:
{
  services.cloudflare-dyndns.apiTokenFile = pkgs.writeText "cf-token" "@CF_TOKEN@";
  services.foo.settings.tokenFile = "${pkgs.writeText "foo-token" "@FOO_TOKEN@"}";
}
