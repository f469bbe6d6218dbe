{ config, ... }:
{
  services.prometheus.alertmanager = {
    enable = true;
    configuration = {
      route.receiver = "pushover";
      receivers = [
        {
          name = "pushover";
          pushover_configs = [
            {
              token = "@PUSHOVER_TOKEN@";
              user_key = "@PUSHOVER_USER@";
              send_resolved = true;
            }
          ];
        }
        {
          name = "slack";
          slack_configs = [
            {
              api_url = "@SLACK_URL@";
              channel = "#alerts";
            }
          ];
        }
        {
          name = "mail";
          email_configs = [
            {
              to = "ops@example.invalid";
              auth_password = "@SMTP_PASSWORD@";
            }
          ];
        }
      ];
    };
  };
}
