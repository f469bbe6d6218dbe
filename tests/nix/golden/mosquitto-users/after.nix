{ config, ... }:
{
  services.mosquitto = {
    enable = true;
    listeners = [
      {
        users.sensor = {
          acl = [ "readwrite home/#" ];
          passwordFile = config.sops.secrets."mosquitto/sensor/password".path;
        };
      }
    ];
  };

  sops.secrets."mosquitto/sensor/password" = {
    sopsFile = ../../secrets/host1.yaml;
    restartUnits = [ "mosquitto.service" ];
  };
}
