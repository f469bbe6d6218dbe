{ config, pkgs, ... }:
{
  services.restic.backups.offsite = {
    repository = "rest:https://backup:@REST_PASSWORD@@restic.lan.internal:8000/homelab";
    passwordFile = "/etc/restic-password";
    paths = [ "/var/lib" ];
  };
  services.restic.backups.photos = {
    user = "immich";
    repository = "s3:https://minio:@MINIO_SECRET@@s3.lan.internal/photos";
    passwordFile = "/etc/restic-photos";
    paths = [ "/var/lib/immich" ];
  };
}
