{ config, ... }:
{

  sops.secrets."etc/restic/password" = {
    sopsFile = ../../secrets/host1.yaml;
    mode = "0444";
    path = "/etc/restic/password";
  };
  sops.secrets."etc/app/config.ini" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."app/config.ini" = {
    content = ''
      [server]
      user = app
      password = ${config.sops.placeholder."etc/app/config.ini"}
    '';
    mode = "0440";
    path = "/etc/app/config.ini";
  };
}
