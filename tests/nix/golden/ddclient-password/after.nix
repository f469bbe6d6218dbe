{ config, ... }:
{
  services.ddclient = {
    enable = true;
    protocol = "cloudflare";
    passwordFile = config.sops.secrets."ddclient/password".path;
  };

  sops.secrets."ddclient/password" = {
    sopsFile = ../../secrets/host1.yaml;
    restartUnits = [ "ddclient.service" ];
  };
}
