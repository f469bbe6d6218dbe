{ config, ... }:
{
  services.matrix-synapse = {
    enable = true;
    settings = {
      server_name = "example.net";
    };
    extraConfigFiles = [ config.sops.templates."synapse-secrets.yaml".path ];
  };

  sops.secrets."synapse/registration_shared_secret" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.secrets."synapse/macaroon_secret_key" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."synapse-secrets.yaml" = {
    content = ''
      registration_shared_secret: '${config.sops.placeholder."synapse/registration_shared_secret"}'
      macaroon_secret_key: '${config.sops.placeholder."synapse/macaroon_secret_key"}'
    '';
    owner = "matrix-synapse";
    restartUnits = [ "matrix-synapse.service" ];
  };
}
