{ config, ... }:
{
  networking.wireguard.interfaces.wg0 = {
    ips = [ "10.100.0.2/24" ];
    privateKeyFile = config.sops.secrets."wireguard/wg0/private-key".path;
    peers = [
      {
        name = "offsite";
        publicKey = "@WG_PUBLIC@";
        presharedKeyFile = config.sops.secrets."wireguard/wg0/offsite/preshared-key".path;
        allowedIPs = [ "10.100.0.0/24" ];
      }
    ];
  };

  sops.secrets."wireguard/wg0/private-key" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = if config.networking.wireguard.useNetworkd or false then "systemd-network" else "root";
    restartUnits = if config.networking.wireguard.useNetworkd or false then [ "systemd-networkd.service" ] else [ "wireguard-wg0.service" ];
  };
  sops.secrets."wireguard/wg0/offsite/preshared-key" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = if config.networking.wireguard.useNetworkd or false then "systemd-network" else "root";
    restartUnits = if config.networking.wireguard.useNetworkd or false then [ "systemd-networkd.service" ] else [ "wireguard-wg0.service" ];
  };
}
