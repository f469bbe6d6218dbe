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
              token = "$PUSHOVER_TOKEN";
              user_key = "$PUSHOVER_USER_KEY";
              send_resolved = true;
            }
          ];
        }
        {
          name = "slack";
          slack_configs = [
            {
              api_url = "$SLACK_API_URL";
              channel = "#alerts";
            }
          ];
        }
        {
          name = "mail";
          email_configs = [
            {
              to = "ops@example.invalid";
              auth_password = "$MAIL_AUTH_PASSWORD";
            }
          ];
        }
      ];
    };
    checkConfig = false;
    environmentFile = config.sops.templates."alertmanager.env".path;
  };

  sops.secrets."alertmanager/pushover/token" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.secrets."alertmanager/pushover/user_key" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.secrets."alertmanager/slack/api_url" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.secrets."alertmanager/mail/auth_password" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."alertmanager.env" = {
    content = ''
      PUSHOVER_TOKEN=${config.sops.placeholder."alertmanager/pushover/token"}
      PUSHOVER_USER_KEY=${config.sops.placeholder."alertmanager/pushover/user_key"}
      SLACK_API_URL=${config.sops.placeholder."alertmanager/slack/api_url"}
      MAIL_AUTH_PASSWORD=${config.sops.placeholder."alertmanager/mail/auth_password"}
    '';
    restartUnits = [ "alertmanager.service" ];
  };
}
