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
          credentials = "@SYNCTHING_KEY@";
        };
      }
      {
        job_name = "router";
        basic_auth = {
          username = "prom";
          password = "@ROUTER_PASSWORD@";
        };
      }
      {
        job_name = "legacy";
        bearer_token = "@LEGACY_TOKEN@";
      }
    ];
    remoteWrite = [
      {
        url = "https://metrics.example.invalid/api/v1/write";
        oauth2 = {
          client_id = "homelab";
          client_secret = "@OAUTH_SECRET@";
        };
      }
    ];
  };
}
