{ pkgs, ... }:
{
  services.postgresql = {
    enable = true;
    ensureDatabases = [ "app" ];
    initialScript = pkgs.writeText "init.sql" ''
      CREATE ROLE app WITH LOGIN PASSWORD '@APP_DB_PASSWORD@';
      GRANT ALL PRIVILEGES ON DATABASE app TO app;
    '';
  };
}
