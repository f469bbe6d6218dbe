{ ... }:
{
  services.zigbee2mqtt = {
    enable = true;
    settings = {
      mqtt.server = "mqtt://localhost:1883";
      mqtt.password = "@Z2M_MQTT@";
      frontend.auth_token = "@Z2M_FRONTEND@";
    };
  };
}
