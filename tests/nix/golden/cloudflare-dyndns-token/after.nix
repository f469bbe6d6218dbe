{ config, ... }:
{
  services.cloudflare-dyndns = {
    enable = true;
    domains = [ "home.example.net" ];
    apiTokenFile = config.sops.templates."cloudflare-dyndns.env".path;
  };

  sops.secrets."cloudflare-dyndns/cloudflare-api-token" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."cloudflare-dyndns.env" = {
    content = ''
      CLOUDFLARE_API_TOKEN=${config.sops.placeholder."cloudflare-dyndns/cloudflare-api-token"}
    '';
    restartUnits = [ "cloudflare-dyndns.service" ];
  };
}
