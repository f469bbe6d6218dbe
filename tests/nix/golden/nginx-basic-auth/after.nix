{ config, ... }:
{
  services.nginx = {
    enable = true;
    virtualHosts."grafana.example.net" = {
      basicAuth = {
      };
      locations."/".proxyPass = "http://127.0.0.1:3001";
      basicAuthFile = config.sops.templates."nginx-basic-auth-grafana.example.net".path;
    };
    virtualHosts."prom.example.net".locations."/api/".basicAuthFile = config.sops.templates."nginx-basic-auth-prom.example.net-api".path;
  };

  sops.secrets."nginx/grafana.example.net/basic-auth/stian" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.secrets."nginx/grafana.example.net/basic-auth/guest" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.secrets."nginx/prom.example.net/api/basic-auth/admin" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."nginx-basic-auth-grafana.example.net" = {
    content = ''
      stian:{PLAIN}${config.sops.placeholder."nginx/grafana.example.net/basic-auth/stian"}
      guest:{PLAIN}${config.sops.placeholder."nginx/grafana.example.net/basic-auth/guest"}
    '';
    owner = config.services.nginx.user;
    restartUnits = [ "nginx.service" ];
  };
  sops.templates."nginx-basic-auth-prom.example.net-api" = {
    content = ''
      admin:{PLAIN}${config.sops.placeholder."nginx/prom.example.net/api/basic-auth/admin"}
    '';
    owner = config.services.nginx.user;
    restartUnits = [ "nginx.service" ];
  };
}
