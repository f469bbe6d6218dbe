{ ... }:
{
  networking.hostName = "syncthing";
  boot.loader.grub.device = "/dev/sda";
  fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };

  services.syncthing = {
    enable = true;
    openDefaultPorts = true;
    guiAddress = "0.0.0.0:8384";
    settings.gui = {
      user = "stian";
      password = "@SYNCTHING_GUI_PASSWORD@";
      # The same key is Prometheus' bearer credential on the observer.
      apikey = "@SYNCTHING_API_KEY@";
    };
  };

  # Backups of the synced folders to the offsite VM.
  services.borgbackup.jobs.sync-backup = {
    paths = [ "/var/lib/syncthing" ];
    repo = "ssh://stian@offsite-vm/home/stian/sync-backup";
    encryption = {
      mode = "repokey";
      passCommand = "echo @SYNC_BORG_PASSPHRASE@";
    };
    startAt = "daily";
  };
}
