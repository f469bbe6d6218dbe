{ config, pkgs, ... }:
{
  security.acme = {
    acceptTerms = true;
    defaults.email = "admin@example.net";
    certs."example.net" = {
      dnsProvider = "cloudflare";
      environmentFile = config.sops.templates."security-example.net-environment".path;
    };
  };

  sops.secrets."security/example.net/cf-dns-api-token" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."security-example.net-environment" = {
    content = ''
      CF_DNS_API_TOKEN=${config.sops.placeholder."security/example.net/cf-dns-api-token"}
    '';
  };
}
