{ config, pkgs, ... }:
{
  services.cloudflare-dyndns.apiTokenFile = config.sops.secrets."cloudflare-dyndns/apitoken".path;
  services.foo.settings.tokenFile = config.sops.secrets."foo/token".path;

  sops.secrets."cloudflare-dyndns/apitoken" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.secrets."foo/token" = {
    sopsFile = ../../secrets/host1.yaml;
    mode = "0444";
  };
}
