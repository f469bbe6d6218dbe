{ config, pkgs, ... }:
{
  services.borgbackup.jobs.immich-backup = {
    paths = [ "/var/lib/immich" ];
    repo = "ssh://stian@offsite-vm/home/stian/immich-backup";
    encryption = {
      mode = "repokey";
      passphrase = "@BORG_PASSPHRASE@";
    };
  };

  services.borgbackup.jobs.docs = {
    user = "stian";
    paths = [ "/home/stian/docs" ];
    repo = "ssh://stian@offsite-vm/home/stian/docs";
    encryption.mode = "repokey";
    encryption.passCommand = "echo @DOCS_PASSPHRASE@";
  };
}
