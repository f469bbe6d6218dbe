{ config, ... }:
{
  sops.templates."matrix-caddy-env" = {
    content = ''
      MATRIX_HOST=matrix.example.invalid
      MATRIX_TOKEN=@MATRIX_TOKEN@
    '';
    owner = "caddy";
    restartUnits = [ "caddy.service" ];
  };
  services.caddy.environmentFile = config.sops.templates."matrix-caddy-env".path;
}
