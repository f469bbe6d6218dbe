{ config, ... }:
{
  services.grafana = {
    enable = true;
    settings = {
      server.http_port = 3001;
      security = {
        admin_user = "admin";
        admin_password = "$__file{${config.sops.secrets."grafana/security/admin_password".path}}";
        secret_key = "$__file{${config.sops.secrets."grafana/security/secret_key".path}}";
      };
      database.password = "$__file{${config.sops.secrets."grafana/database/password".path}}";
    };
    provision.datasources.settings.datasources = [
      {
        name = "Loki";
        type = "loki";
        secureJsonData.basicAuthPassword = "$__file{${config.sops.secrets."grafana/datasources/loki/basicauthpassword".path}}";
      }
    ];
  };

  sops.secrets."grafana/security/admin_password" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = "grafana";
    restartUnits = [ "grafana.service" ];
  };
  sops.secrets."grafana/security/secret_key" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = "grafana";
    restartUnits = [ "grafana.service" ];
  };
  sops.secrets."grafana/database/password" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = "grafana";
    restartUnits = [ "grafana.service" ];
  };
  sops.secrets."grafana/datasources/loki/basicauthpassword" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = "grafana";
    restartUnits = [ "grafana.service" ];
  };
}
