{ config, ... }:
{
  sops.templates."matrix-caddy-env" = {
    content = ''
      MATRIX_HOST=matrix.example.invalid
      MATRIX_TOKEN=${config.sops.placeholder."matrix-caddy-env/secret"}
    '';
    owner = "caddy";
    restartUnits = [ "caddy.service" ];
  };
  services.caddy.environmentFile = config.sops.templates."matrix-caddy-env".path;

  sops.secrets."matrix-caddy-env/secret" = {
    sopsFile = ../../secrets/host1.yaml;
  };
}
