# Every host: sshd, the admin account (its name is an option), tailscale.
{ config, lib, ... }:
{
  options.lab.admin = lib.mkOption {
    type = lib.types.str;
    default = "ops";
    description = "The name of the admin account on every host.";
  };

  config = {
    services.openssh.enable = true;

    users.users.${config.lab.admin} = {
      isNormalUser = true;
      extraGroups = [ "wheel" ];
      initialPassword = "@ADMIN_PASSWORD@";
    };

    services.tailscale = {
      enable = true;
      extraUpFlags = [ "--authkey=@TAILSCALE_AUTHKEY@" ];
    };

    system.stateVersion = "25.05";
  };
}
