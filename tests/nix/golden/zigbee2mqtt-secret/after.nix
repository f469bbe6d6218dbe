{ config, ... }:
{
  services.zigbee2mqtt = {
    enable = true;
    settings = {
      mqtt.server = "mqtt://localhost:1883";
      mqtt.password = "!secret.yaml mqtt_password";
      frontend.auth_token = "!secret.yaml frontend_auth_token";
    };
  };

  sops.secrets."zigbee2mqtt/mqtt/password" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.secrets."zigbee2mqtt/frontend/auth_token" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."zigbee2mqtt-secret.yaml" = {
    content = ''
      mqtt_password: '${config.sops.placeholder."zigbee2mqtt/mqtt/password"}'
      frontend_auth_token: '${config.sops.placeholder."zigbee2mqtt/frontend/auth_token"}'
    '';
    owner = "zigbee2mqtt";
    path = "/var/lib/zigbee2mqtt/secret.yaml";
    restartUnits = [ "zigbee2mqtt.service" ];
  };
}
