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
    environmentFile = config.sops.templates."alertmanager.env".path;
  };

  sops.secrets."alertmanager/pushover/token" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.secrets."alertmanager/pushover/user_key" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.secrets."alertmanager/mail/auth_password" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."alertmanager.env" = {
    content = ''
      PUSHOVER_TOKEN=${config.sops.placeholder."alertmanager/pushover/token"}
      PUSHOVER_USER_KEY=${config.sops.placeholder."alertmanager/pushover/user_key"}
      MAIL_AUTH_PASSWORD=${config.sops.placeholder."alertmanager/mail/auth_password"}
    '';
    restartUnits = [ "alertmanager.service" ];
  };
}
