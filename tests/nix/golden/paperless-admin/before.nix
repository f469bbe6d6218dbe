{ ... }:
{
  services.paperless = {
    enable = true;
    settings.PAPERLESS_ADMIN_PASSWORD = "@PAPERLESS_ADMIN@";
  };
}
