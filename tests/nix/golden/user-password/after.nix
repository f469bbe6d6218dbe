{ config, pkgs, ... }:
{
  users.users.stian = {
    isNormalUser = true;
    hashedPasswordFile = config.sops.secrets."users/stian/hashed-password".path;
  };
  users.users.root.hashedPasswordFile = config.sops.secrets."users/root/hashed-password".path;

  sops.secrets."users/stian/hashed-password" = {
    sopsFile = ../../secrets/host1.yaml;
    neededForUsers = true;
  };
  sops.secrets."users/root/hashed-password" = {
    sopsFile = ../../secrets/host1.yaml;
    neededForUsers = true;
  };
}
