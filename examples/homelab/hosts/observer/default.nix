{ ... }:
{
  imports = [ ./monitoring.nix ];

  networking.hostName = "observer";
  boot.loader.grub.device = "/dev/sda";
  fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };
}
