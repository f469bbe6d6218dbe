{ pkgs, ... }:
let
  lastImmichBackupJob = "/var/lib/prometheus-node-exporter/textfile";
in
{
  networking.hostName = "immich";
  boot.loader.grub.device = "/dev/sda";
  fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };

  services.immich = {
    enable = true;
    port = 2283;
    host = "0.0.0.0";
  };

  services.borgbackup.jobs.immich-backup = {
    paths = [
      "/var/lib/immich"
      "/var/backup/postgresql"
    ];
    # The borg repo lives on another machine named "offsite-vm".
    repo = "ssh://stian@offsite-vm/home/stian/immich-backup";
    encryption = {
      mode = "repokey";
      passphrase = "@BORG_PASSPHRASE@";
    };
    environment.BORG_RSH = "ssh -i /root/.ssh/id_ed25519 -o StrictHostKeyChecking=no";
    compression = "auto,lzma";
    startAt = "daily";
    readWritePaths = [
      "/var/backup"
      lastImmichBackupJob
    ];
    preHook = ''
      ${pkgs.systemd}/bin/systemctl stop immich-server
    '';
    postHook = ''
      ${pkgs.systemd}/bin/systemctl start immich-server
      echo "borg_backup_last_success_timestamp_seconds{backup_name=\"immich\"} $(date +%s)" > ${lastImmichBackupJob}/borg_immich.prom
    '';
    prune.keep = {
      daily = 7;
      weekly = 4;
      monthly = 6;
    };
  };
}
