{ config, ... }:
{
  nix.settings = {
    experimental-features = [ "nix-command" "flakes" ];
    access-tokens = [ ];
  };
  nix.extraOptions = "!include ${config.sops.templates."nix-access-tokens".path}";

  sops.secrets."nix/access-tokens/github.com" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."nix-access-tokens" = {
    content = ''
      extra-access-tokens = github.com=${config.sops.placeholder."nix/access-tokens/github.com"}
    '';
  };
}
