{ ... }:
{
  services.gitea-actions-runner.instances.forge = {
    enable = true;
    name = "builder";
    url = "https://forge.example.net";
    token = "@RUNNER_TOKEN@";
    labels = [ "native:host" ];
  };
}
