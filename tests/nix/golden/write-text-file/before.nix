{ config, pkgs, ... }:
{
  services.restic.backups.b2 = {
    repository = "b2:homelab-backups:/photos";
    passwordFile = "${pkgs.writeText "restic-password" "@RESTIC_PASSWORD@"}";
    paths = [ "/var/lib/immich" ];
  };
  services.cloudflare-dyndns.apiTokenFile = pkgs.writeText "cf-token" "@CF_TOKEN@";
}
