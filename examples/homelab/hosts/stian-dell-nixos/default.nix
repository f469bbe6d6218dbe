# The laptop: wifi at home, WireGuard back to the mother's-house VM.
{ pkgs, ... }:
{
  networking.hostName = "stian-dell-nixos";
  boot.loader.systemd-boot.enable = true;
  fileSystems."/" = { device = "/dev/nvme0n1p2"; fsType = "ext4"; };

  networking.wireless = {
    enable = true;
    networks."Home Wifi".psk = "@HOME_WIFI_PSK@";
  };

  networking.wireguard.interfaces.wg0 = {
    ips = [ "10.100.0.2/24" ];
    privateKey = "@WIREGUARD_PRIVATE_KEY@";
    peers = [
      {
        publicKey = "@WIREGUARD_PEER_PUBLIC_KEY@";
        allowedIPs = [ "10.100.0.0/24" ];
        endpoint = "offsite.example.net:51820";
      }
    ];
  };

  services.xserver.enable = true;
  environment.systemPackages = [ pkgs.firefox ];
}
