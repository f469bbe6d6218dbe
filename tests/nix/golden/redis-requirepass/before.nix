{ config, ... }:
{
  services.redis.servers.main = {
    enable = true;
    port = 6380;
    requirePass = "@REDIS_PASSWORD@";
  };
}
