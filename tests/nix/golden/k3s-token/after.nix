{ config, ... }:
{
  services.k3s.tokenFile = config.sops.secrets."k3s/token".path;
  services.k3s.agentTokenFile = config.sops.secrets."k3s/agenttoken".path;

  sops.secrets."k3s/token" = {
    sopsFile = ../../secrets/host1.yaml;
    restartUnits = [ "k3s.service" ];
  };
  sops.secrets."k3s/agenttoken" = {
    sopsFile = ../../secrets/host1.yaml;
    restartUnits = [ "k3s.service" ];
  };
}
