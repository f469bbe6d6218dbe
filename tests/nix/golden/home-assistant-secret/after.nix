{ config, ... }:
{
  services.home-assistant = {
    enable = true;
    extraComponents = [ "met" "pushover" ];
    config = {
      homeassistant.name = "Home";
      notify = [
        {
          name = "phone";
          platform = "pushover";
          api_key = "!secret notify_api_key";
          user_key = "!secret notify_user_key";
        }
      ];
      influxdb.password = "!secret influxdb_password";
    };
  };

  sops.secrets."home-assistant/notify/api_key" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.secrets."home-assistant/notify/user_key" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.secrets."home-assistant/influxdb/password" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."home-assistant-secrets.yaml" = {
    content = ''
      notify_api_key: '${config.sops.placeholder."home-assistant/notify/api_key"}'
      notify_user_key: '${config.sops.placeholder."home-assistant/notify/user_key"}'
      influxdb_password: '${config.sops.placeholder."home-assistant/influxdb/password"}'
    '';
    owner = "hass";
    path = "/var/lib/hass/secrets.yaml";
    restartUnits = [ "home-assistant.service" ];
  };
}
