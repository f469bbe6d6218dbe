{ config, ... }:
{
  services.prometheus = {
    enable = true;
    scrapeConfigs = [
      {
        job_name = "syncthing";
        static_configs = [ { targets = [ "syncthing:8384" ]; } ];
        authorization = {
          type = "Bearer";
          credentials_file = config.sops.secrets."prometheus/syncthing/credentials".path;
        };
      }
      {
        job_name = "router";
        basic_auth = {
          username = "prom";
          password_file = config.sops.secrets."prometheus/router/password".path;
        };
      }
      {
        job_name = "legacy";
        bearer_token_file = config.sops.secrets."prometheus/legacy/bearer-token".path;
      }
    ];
    remoteWrite = [
      {
        url = "https://metrics.example.invalid/api/v1/write";
        oauth2 = {
          client_id = "homelab";
          client_secret_file = config.sops.secrets."prometheus/remotewrite-0/client-secret".path;
        };
      }
    ];
    checkConfig = "syntax-only";
  };

  sops.secrets."prometheus/syncthing/credentials" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = "prometheus";
    restartUnits = [ "prometheus.service" ];
  };
  sops.secrets."prometheus/router/password" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = "prometheus";
    restartUnits = [ "prometheus.service" ];
  };
  sops.secrets."prometheus/legacy/bearer-token" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = "prometheus";
    restartUnits = [ "prometheus.service" ];
  };
  sops.secrets."prometheus/remotewrite-0/client-secret" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = "prometheus";
    restartUnits = [ "prometheus.service" ];
  };
}
