{ config, ... }:
{
  networking.networkmanager = {
    enable = true;
    ensureProfiles.profiles = {
      home = {
        connection = {
          id = "home";
          type = "wifi";
        };
        wifi.ssid = "Home Wifi";
        wifi-security = {
          key-mgmt = "wpa-psk";
          psk = "@HOME_PSK@";
        };
      };
      office = {
        connection.id = "office";
        "802-1x" = {
          eap = "peap";
          identity = "stian";
          password = "@OFFICE_PASSWORD@";
        };
      };
    };
  };
}
