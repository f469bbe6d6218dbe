{ ... }:
{
  services.mosquitto = {
    enable = true;
    listeners = [
      {
        users.sensor = {
          acl = [ "readwrite home/#" ];
          password = "@MQTT_SENSOR@";
        };
      }
    ];
  };
}
