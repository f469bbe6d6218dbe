{ config, pkgs, ... }:
{
  services.cloudflared = {
    enable = true;
    tunnels."home" = {
      credentialsFile = config.sops.templates."cloudflared-tunnels-home-credentials".path;
      default = "http_status:404";
    };
  };

  sops.secrets."cloudflared/tunnels/home/credentials" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."cloudflared-tunnels-home-credentials" = {
    content = ''
      {"AccountTag":"acct","TunnelSecret":"${config.sops.placeholder."cloudflared/tunnels/home/credentials"}","TunnelID":"id"}
    '';
    owner = (if builtins.compareVersions config.system.nixos.release "25.05" >= 0 then "root" else config.services.cloudflared.user);
    restartUnits = [ "cloudflared-tunnel-home.service" ];
  };
}
