{ config, ... }:
{
  services.grafana = {
    enable = true;
    settings = {
      server.http_port = 3001;
      security = {
        admin_user = "admin";
        admin_password = "@GRAFANA_ADMIN@";
        secret_key = "@GRAFANA_SECRET_KEY@";
      };
      database.password = "@GRAFANA_DB@";
    };
    provision.datasources.settings.datasources = [
      {
        name = "Loki";
        type = "loki";
        secureJsonData.basicAuthPassword = "@LOKI_PASSWORD@";
      }
    ];
  };
}
