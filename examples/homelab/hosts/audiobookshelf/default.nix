{ ... }:
{
  networking.hostName = "audiobookshelf";
  boot.loader.grub.device = "/dev/sda";
  fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };

  services.audiobookshelf = {
    enable = true;
    host = "0.0.0.0";
    openFirewall = true;
  };
}
