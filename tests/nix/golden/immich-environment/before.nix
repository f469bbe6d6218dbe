{ ... }:
{
  services.immich = {
    enable = true;
    environment = {
      IMMICH_LOG_LEVEL = "log";
      DB_PASSWORD = "@IMMICH_DB@";
    };
  };
}
