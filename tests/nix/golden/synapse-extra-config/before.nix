{ ... }:
{
  services.matrix-synapse = {
    enable = true;
    settings = {
      server_name = "example.net";
      registration_shared_secret = "@SYNAPSE_REG@";
      macaroon_secret_key = "@SYNAPSE_MACAROON@";
    };
  };
}
