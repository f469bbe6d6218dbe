{ config, ... }:
{
  services.nextcloud = {
    enable = true;
    hostName = "cloud.example.net";
    config.adminpass = "@NEXTCLOUD_ADMIN@";
    config.dbpass = "@NEXTCLOUD_DB@";
  };
}
