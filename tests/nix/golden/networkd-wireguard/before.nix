{ ... }:
{
  systemd.network.netdevs."50-wg0" = {
    netdevConfig = { Kind = "wireguard"; Name = "wg0"; };
    wireguardConfig.PrivateKey = "@WG_NETWORKD@";
    wireguardPeers = [
      { PublicKey = "@WG_PUBLIC@"; PresharedKey = "@WG_PSK@"; AllowedIPs = [ "10.0.0.0/24" ]; }
    ];
  };
}
