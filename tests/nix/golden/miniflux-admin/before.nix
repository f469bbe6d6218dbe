{ ... }:
{
  services.miniflux = {
    enable = true;
    config = {
      LISTEN_ADDR = "127.0.0.1:8081";
      ADMIN_USERNAME = "admin";
      ADMIN_PASSWORD = "@MINIFLUX_ADMIN@";
    };
  };
}
