{ config, ... }:
{
  services.redis.servers.main = {
    enable = true;
    port = 6380;
    requirePassFile = config.sops.secrets."redis/servers/main/requirepass".path;
  };

  sops.secrets."redis/servers/main/requirepass" = {
    sopsFile = ../../secrets/host1.yaml;
    restartUnits = [ "redis-main.service" ];
  };
}
