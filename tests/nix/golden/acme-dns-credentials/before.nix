{ pkgs, ... }:
{
  security.acme = {
    acceptTerms = true;
    defaults.email = "admin@example.net";
    certs."example.net" = {
      dnsProvider = "cloudflare";
      environmentFile = pkgs.writeText "cf-dns" ''
        CF_DNS_API_TOKEN=@ACME_CF_TOKEN@
      '';
    };
  };
}
