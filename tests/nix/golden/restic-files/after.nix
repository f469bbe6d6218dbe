{ config, pkgs, ... }:
{
  services.restic.backups.b2 = {
    repository = "b2:homelab-backups:/photos";
    passwordFile = config.sops.secrets."restic/b2/password".path;
    environmentFile = config.sops.templates."restic-b2-environment".path;
    paths = [ "/var/lib/immich" ];
  };
  services.restic.backups.local = {
    user = "backup";
    repository = "/mnt/backup";
    passwordFile = config.sops.secrets."restic/local/password".path;
    paths = [ "/home" ];
  };

  sops.secrets."restic/b2/password" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.secrets."restic/b2/b2-account-key" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.secrets."restic/local/password" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = "backup";
  };
  sops.templates."restic-b2-environment" = {
    content = ''
      B2_ACCOUNT_ID=0012345
      B2_ACCOUNT_KEY=${config.sops.placeholder."restic/b2/b2-account-key"}
    '';
  };
}
