# The mini PC at my mother's house: borg repositories and a dynamic DNS name.
{ ... }:
{
  networking.hostName = "offsite-vm";
  boot.loader.grub.device = "/dev/sda";
  fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };

  services.borgbackup.repos.immich-backup = {
    path = "/home/stian/immich-backup";
    authorizedKeys = [ ];
  };

  services.ddclient = {
    enable = true;
    protocol = "cloudflare";
    domains = [ "offsite.example.net" ];
    username = "token";
    password = "@DDCLIENT_PASSWORD@";
  };
}
