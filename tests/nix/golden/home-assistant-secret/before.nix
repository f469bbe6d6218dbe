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
          api_key = "@HASS_PUSHOVER_API_KEY@";
          user_key = "@HASS_PUSHOVER_USER_KEY@";
        }
      ];
      influxdb.password = "@HASS_INFLUXDB_PASSWORD@";
    };
  };
}
