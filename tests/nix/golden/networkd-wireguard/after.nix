{ config, ... }:
{
  systemd.network.netdevs."50-wg0" = {
    netdevConfig = { Kind = "wireguard"; Name = "wg0"; };
    wireguardConfig.PrivateKeyFile = config.sops.secrets."wireguard/50-wg0/private-key".path;
    wireguardPeers = [
      { PublicKey = "@WG_PUBLIC@"; PresharedKeyFile = config.sops.secrets."wireguard/50-wg0/peer-0/preshared-key".path; AllowedIPs = [ "10.0.0.0/24" ]; }
    ];
  };

  sops.secrets."wireguard/50-wg0/private-key" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = "systemd-network";
    restartUnits = [ "systemd-networkd.service" ];
  };
  sops.secrets."wireguard/50-wg0/peer-0/preshared-key" = {
    sopsFile = ../../secrets/host1.yaml;
    owner = "systemd-network";
    restartUnits = [ "systemd-networkd.service" ];
  };
}
