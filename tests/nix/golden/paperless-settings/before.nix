{ ... }:
{
  services.paperless = {
    enable = true;
    settings = {
      PAPERLESS_OCR_LANGUAGE = "deu+eng";
      PAPERLESS_SECRET_KEY = "@PAPERLESS_KEY@";
    };
  };
}
