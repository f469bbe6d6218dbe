{ ... }:
{
  services.github-runners.build = {
    enable = true;
    url = "https://github.com/example/repo";
    token = "@RUNNER_TOKEN@";
  };
}
