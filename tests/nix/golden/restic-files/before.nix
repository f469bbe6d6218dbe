{ config, pkgs, ... }:
{
  services.restic.backups.b2 = {
    repository = "b2:homelab-backups:/photos";
    passwordFile = "${pkgs.writeText "restic-password" "@RESTIC_PASSWORD@"}";
    environmentFile = pkgs.writeText "b2-env" ''
      B2_ACCOUNT_ID=0012345
      B2_ACCOUNT_KEY=@B2_KEY@
    '';
    paths = [ "/var/lib/immich" ];
  };
  services.restic.backups.local = {
    user = "backup";
    repository = "/mnt/backup";
    passwordFile = pkgs.writeText "local-password" "@LOCAL_RESTIC@";
    paths = [ "/home" ];
  };
}
