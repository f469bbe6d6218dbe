{ config, ... }:
{
  services.syncthing = {
    enable = true;
    settings.gui = {
      user = "stian";
      password = "@SYNCTHING_GUI@";
    };
  };
}
