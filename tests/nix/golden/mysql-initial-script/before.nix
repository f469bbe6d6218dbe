{ pkgs, ... }:
{
  services.mysql = {
    enable = true;
    initialScript = pkgs.writeText "init.sql" "CREATE USER 'app'@'localhost' IDENTIFIED BY '@APP_DB_PASSWORD@';";
  };
}
