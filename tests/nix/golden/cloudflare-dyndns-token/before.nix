{ ... }:
{
  services.cloudflare-dyndns = {
    enable = true;
    domains = [ "home.example.net" ];
    apiToken = "@CF_DYNDNS_TOKEN@";
  };
}
