{ config, ... }:
{
  services.github-runners.build = {
    enable = true;
    url = "https://github.com/example/repo";
    tokenFile = config.sops.secrets."github-runners/build/token".path;
  };

  sops.secrets."github-runners/build/token" = {
    sopsFile = ../../secrets/host1.yaml;
  };
}
