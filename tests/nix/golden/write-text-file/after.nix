{ config, pkgs, ... }:
{
  services.cloudflare-dyndns.apiTokenFile = config.sops.secrets."cloudflare-dyndns/apitoken".path;
  services.foo.settings.tokenFile = config.sops.secrets."foo/token".path;

  sops.secrets."cloudflare-dyndns/apitoken" = {
    sopsFile = ../../secrets/host1.yaml;
    restartUnits = [ "cloudflare-dyndns.service" ];
  };
  sops.secrets."foo/token" = {
    sopsFile = ../../secrets/host1.yaml;
    mode = "0444";
  };
}
