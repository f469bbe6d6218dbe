{ config, pkgs, ... }:
{
  services.restic.backups.offsite = {
    repositoryFile = config.sops.secrets."restic/offsite/repository".path;
    passwordFile = "/etc/restic-password";
    paths = [ "/var/lib" ];
  };
  services.restic.backups.photos = {
    user = "immich";
    repositoryFile = config.sops.secrets."restic/photos/repository".path;
    passwordFile = "/etc/restic-photos";
    paths = [ "/var/lib/immich" ];
  };

  sops.secrets."restic/offsite/repository" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.secrets."restic/photos/repository" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = "immich";
  };
}
