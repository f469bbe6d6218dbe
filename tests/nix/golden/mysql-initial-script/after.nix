{ config, pkgs, ... }:
{
  services.mysql = {
    enable = true;
    initialScript = config.sops.templates."mysql-initialscript".path;
  };

  sops.secrets."mysql/initialscript" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."mysql-initialscript" = {
    content = ''
      CREATE USER 'app'@'localhost' IDENTIFIED BY '${config.sops.placeholder."mysql/initialscript"}';
    '';
    owner = config.services.mysql.user;
  };
}
