{ config, pkgs, ... }:
{
  services.borgbackup.jobs.immich-backup = {
    paths = [ "/var/lib/immich" ];
    repo = "ssh://stian@offsite-vm/home/stian/immich-backup";
    encryption = {
      mode = "repokey";
      passCommand = "cat ${config.sops.secrets."borg/immich-backup/passphrase".path}";
    };
  };

  services.borgbackup.jobs.docs = {
    user = "stian";
    paths = [ "/home/stian/docs" ];
    repo = "ssh://stian@offsite-vm/home/stian/docs";
    encryption.mode = "repokey";
    encryption.passCommand = "cat ${config.sops.secrets."borg/docs/passphrase".path}";
  };

  sops.secrets."borg/immich-backup/passphrase" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.secrets."borg/docs/passphrase" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = "stian";
  };
}
