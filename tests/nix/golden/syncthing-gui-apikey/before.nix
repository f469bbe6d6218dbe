{ ... }:
{
  services.syncthing = {
    enable = true;
    guiAddress = "0.0.0.0:8384";
    settings.gui = {
      user = "stian";
      apikey = "@SYNCTHING_API_KEY@";
    };
  };
}
