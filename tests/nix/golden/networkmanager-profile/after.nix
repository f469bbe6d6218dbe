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
          psk = "$HOME_PSK";
        };
      };
      office = {
        connection.id = "office";
        "802-1x" = {
          eap = "peap";
          identity = "stian";
          password = "$OFFICE_PASSWORD";
        };
      };
    };
    ensureProfiles.environmentFiles = [ config.sops.templates."networkmanager.env".path ];
  };

  sops.secrets."networkmanager/home/psk" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.secrets."networkmanager/office/password" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."networkmanager.env" = {
    content = ''
      HOME_PSK=${config.sops.placeholder."networkmanager/home/psk"}
      OFFICE_PASSWORD=${config.sops.placeholder."networkmanager/office/password"}
    '';
    restartUnits = [ "NetworkManager-ensure-profiles.service" ];
  };
}
