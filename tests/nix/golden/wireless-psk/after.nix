{ config, ... }:
{
  networking.wireless = {
    enable = true;
    networks = {
      "Home Wifi".pskRaw = "ext:psk_home_wifi";
      cabin = {
        pskRaw = "ext:psk_cabin";
        priority = 10;
      };
    };
    secretsFile = config.sops.templates."wireless-secrets".path;
  };

  sops.secrets."wifi/home-wifi/psk" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.secrets."wifi/cabin/psk" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."wireless-secrets" = {
    content = ''
      psk_home_wifi=${config.sops.placeholder."wifi/home-wifi/psk"}
      psk_cabin=${config.sops.placeholder."wifi/cabin/psk"}
    '';
    owner = (if builtins.compareVersions config.system.nixos.release "25.05" >= 0 then "wpa_supplicant" else "root");
    restartUnits = (if config.networking.wireless.interfaces == [ ] then [ "wpa_supplicant.service" ] else map (i: "wpa_supplicant-${i}.service") config.networking.wireless.interfaces);
  };
}
