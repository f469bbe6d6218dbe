{ config, ... }:
{
  nix.settings = {
    experimental-features = [ "nix-command" "flakes" ];
    access-tokens = [ "@GH_ENTRY@" ];
  };
}
