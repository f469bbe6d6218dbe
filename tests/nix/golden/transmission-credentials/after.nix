{ config, ... }:
{
  services.transmission = {
    enable = true;
    settings = {
      rpc-authentication-required = true;
    };
    credentialsFile = config.sops.templates."transmission-credentials.json".path;
  };

  sops.secrets."transmission/rpc-password" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."transmission-credentials.json" = {
    content = ''
      {"rpc-password": "${config.sops.placeholder."transmission/rpc-password"}"}
    '';
    restartUnits = [ "transmission.service" ];
  };
}
