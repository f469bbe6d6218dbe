# Home automation: Home Assistant, zigbee2mqtt, the MQTT broker, Nextcloud.
{ ... }:
{
  networking.hostName = "home";
  boot.loader.grub.device = "/dev/sda";
  fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };

  services.home-assistant = {
    enable = true;
    config = {
      homeassistant.name = "Home";
      influxdb.password = "@HASS_INFLUX_PASSWORD@";
    };
  };

  services.zigbee2mqtt = {
    enable = true;
    settings = {
      mqtt.server = "mqtt://127.0.0.1:1883";
      mqtt.password = "@Z2M_MQTT_PASSWORD@";
      frontend.auth_token = "@Z2M_FRONTEND_TOKEN@";
    };
  };

  services.mosquitto = {
    enable = true;
    listeners = [
      {
        users.zigbee = {
          acl = [ "readwrite zigbee2mqtt/#" ];
          password = "@MQTT_ZIGBEE_PASSWORD@";
        };
      }
    ];
  };

  services.nextcloud = {
    enable = true;
    hostName = "cloud.example.net";
    config.adminpass = "@NEXTCLOUD_ADMIN_PASSWORD@";
    config.dbpass = "@NEXTCLOUD_DB_PASSWORD@";
  };
}
