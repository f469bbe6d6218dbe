# Shared by every host: SSH, tailscale, node exporter and the admin user.
{ pkgs, ... }:
{
  services.openssh.enable = true;

  services.tailscale = {
    enable = true;
    # Join the tailnet on first boot.
    extraUpFlags = [ "--ssh" "--authkey=@TAILSCALE_AUTHKEY@" ];
  };

  services.prometheus.exporters.node = {
    enable = true;
    enabledCollectors = [ "systemd" ];
    port = 9002;
    openFirewall = true;
  };

  users.users.stian = {
    isNormalUser = true;
    extraGroups = [ "wheel" ];
    initialPassword = "@STIAN_PASSWORD@";
  };

  environment.systemPackages = with pkgs; [ neovim tmux ];

  system.stateVersion = "25.05";
}
