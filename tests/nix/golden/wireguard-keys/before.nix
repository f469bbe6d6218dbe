{ config, ... }:
{
  networking.wireguard.interfaces.wg0 = {
    ips = [ "10.100.0.2/24" ];
    privateKey = "@WG_PRIVATE@";
    peers = [
      {
        name = "offsite";
        publicKey = "@WG_PUBLIC@";
        presharedKey = "@WG_PSK@";
        allowedIPs = [ "10.100.0.0/24" ];
      }
    ];
  };
}
