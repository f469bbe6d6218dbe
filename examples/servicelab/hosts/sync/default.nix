# Syncthing (its API key is the monitor's bearer credential) and torrents.
{ ... }:
{
  networking.hostName = "sync";
  boot.loader.grub.device = "/dev/sda";
  fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };

  services.syncthing = {
    enable = true;
    guiAddress = "0.0.0.0:8384";
    settings.gui = {
      user = "ops";
      password = "@SYNCTHING_GUI_PASSWORD@";
      apikey = "@SYNCTHING_API_KEY@";
    };
  };

  services.transmission = {
    enable = true;
    settings = {
      rpc-authentication-required = true;
      rpc-username = "ops";
      rpc-password = "@TRANSMISSION_RPC_PASSWORD@";
    };
  };
}
