# The edge: TLS via DNS-01, a tunnel, dynamic DNS and the WireGuard hub.
{ pkgs, ... }:
{
  networking.hostName = "gateway";
  boot.loader.grub.device = "/dev/sda";
  fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };

  security.acme = {
    acceptTerms = true;
    defaults.email = "admin@example.net";
    certs."example.net" = {
      dnsProvider = "cloudflare";
      environmentFile = pkgs.writeText "cloudflare-dns" ''
        CF_DNS_API_TOKEN=@ACME_CF_TOKEN@
      '';
    };
  };

  services.nginx = {
    enable = true;
    virtualHosts."status.example.net" = {
      useACMEHost = "example.net";
      basicAuth = {
        ops = "@NGINX_OPS@";
        guest = "@NGINX_GUEST@";
      };
    };
  };

  services.cloudflared = {
    enable = true;
    tunnels."lab" = {
      credentialsFile = pkgs.writeText "lab-tunnel.json" "@TUNNEL_CREDENTIALS@";
      default = "http_status:404";
    };
  };

  services.ddclient = {
    enable = true;
    protocol = "cloudflare";
    domains = [ "gw.example.net" ];
    password = "@DDCLIENT_PASSWORD@";
  };

  systemd.network.netdevs."50-wg0" = {
    netdevConfig = { Kind = "wireguard"; Name = "wg0"; };
    wireguardConfig.PrivateKey = "@WG_GATEWAY@";
  };
}
