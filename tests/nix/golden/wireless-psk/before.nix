{ ... }:
{
  networking.wireless = {
    enable = true;
    networks = {
      "Home Wifi".psk = "@HOME_PSK@";
      cabin = {
        pskRaw = "@CABIN_PSK_HEX@";
        priority = 10;
      };
    };
  };
}
