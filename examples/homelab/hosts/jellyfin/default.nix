{ ... }:
{
  networking.hostName = "jellyfin";
  boot.loader.grub.device = "/dev/sda";
  fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };

  services.jellyfin = {
    enable = true;
    openFirewall = true;
  };

  # NFS mounts from Synology
  fileSystems."/mnt/media" = {
    device = "192.168.68.153:/volume1/media";
    fsType = "nfs";
    options = [
      "x-systemd.automount"
      "noauto"
      "x-systemd.idle-timeout=600"
    ];
  };
}
