{ pkgs, ... }:
{
  services.nextcloud = {
    enable = true;
    hostName = "cloud.example.invalid";
    config.adminpassFile = toString (pkgs.writeText "nc-admin" "@NC_ADMIN@");
    config.dbpassFile = "${pkgs.writeText "nc-db" "@NC_DB@"}";
  };
}
