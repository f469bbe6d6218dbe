{ config, pkgs, ... }:
{
  services.postfix = {
    enable = true;
    relayHost = "smtp.example.net";
    mapFiles.sasl_passwd = config.sops.templates."postfix-mapfiles-sasl_passwd".path;
  };

  sops.secrets."postfix/mapfiles/sasl_passwd" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."postfix-mapfiles-sasl_passwd" = {
    content = ''
      [smtp.example.net]:587 relay@example.net:${config.sops.placeholder."postfix/mapfiles/sasl_passwd"}
    '';
    restartUnits = [ "postfix.service" ];
  };
}
