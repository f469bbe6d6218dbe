{ config, ... }:
{
  services.gitea-actions-runner.instances.forge = {
    enable = true;
    name = "builder";
    url = "https://forge.example.net";
    labels = [ "native:host" ];
    tokenFile = config.sops.templates."gitea-runner-forge.env".path;
  };

  sops.secrets."gitea-runner/token" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."gitea-runner-forge.env" = {
    content = ''
      TOKEN=${config.sops.placeholder."gitea-runner/token"}
    '';
  };
}
