{ pkgs, ... }:
{
  services.cloudflared = {
    enable = true;
    tunnels."home" = {
      credentialsFile = pkgs.writeText "tunnel.json" ''{"AccountTag":"acct","TunnelSecret":"@TUNNEL_SECRET@","TunnelID":"id"}'';
      default = "http_status:404";
    };
  };
}
