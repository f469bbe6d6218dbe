{ config, pkgs, ... }:
{
  services.postgresql = {
    enable = true;
    ensureDatabases = [ "app" ];
    initialScript = config.sops.templates."postgresql-initialscript".path;
  };

  sops.secrets."postgresql/initialscript" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."postgresql-initialscript" = {
    content = ''
      CREATE ROLE app WITH LOGIN PASSWORD '${config.sops.placeholder."postgresql/initialscript"}';
      GRANT ALL PRIVILEGES ON DATABASE app TO app;
    '';
    owner = "postgres";
  };
}
