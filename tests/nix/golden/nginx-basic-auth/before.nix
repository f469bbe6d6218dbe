{ config, ... }:
{
  services.nginx = {
    enable = true;
    virtualHosts."grafana.example.net" = {
      basicAuth = {
        stian = "@STIAN_WEB_PASSWORD@";
        guest = "@GUEST_WEB_PASSWORD@";
      };
      locations."/".proxyPass = "http://127.0.0.1:3001";
    };
    virtualHosts."prom.example.net".locations."/api/".basicAuth.admin = "@PROM_ADMIN_PASSWORD@";
  };
}
