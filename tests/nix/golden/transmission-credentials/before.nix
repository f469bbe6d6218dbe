{ ... }:
{
  services.transmission = {
    enable = true;
    settings = {
      rpc-authentication-required = true;
      rpc-password = "@TRANSMISSION_RPC@";
    };
  };
}
