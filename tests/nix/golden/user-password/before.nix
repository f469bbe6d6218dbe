{ config, pkgs, ... }:
{
  users.users.stian = {
    isNormalUser = true;
    initialPassword = "@STIAN_PASSWORD@";
  };
  users.users.root.hashedPassword = "@ROOT_HASH@";
}
