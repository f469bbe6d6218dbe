{ config, pkgs, ... }:
{
  services.restic.backups.b2 = {
    repository = "b2:homelab-backups:/photos";
    passwordFile = config.sops.secrets."restic/b2/password".path;
    paths = [ "/var/lib/immich" ];
  };
  services.cloudflare-dyndns.apiTokenFile = config.sops.secrets."cloudflare-dyndns/apitoken".path;

  sops.secrets."restic/b2/password" = {
    sopsFile = ../../secrets/host1.yaml;
    restartUnits = [ "restic-backups-b2.service" ];
  };
  sops.secrets."cloudflare-dyndns/apitoken" = {
    sopsFile = ../../secrets/host1.yaml;
  };
}
