{ config, ... }:
{
  services.vaultwarden = {
    enable = true;
    config = {
      DOMAIN = "https://vault.example.net";
    };
    environmentFile = config.sops.templates."vaultwarden.env".path;
  };

  sops.secrets."vaultwarden/admin-token" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.secrets."vaultwarden/smtp-password" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."vaultwarden.env" = {
    content = ''
      ADMIN_TOKEN=${config.sops.placeholder."vaultwarden/admin-token"}
      SMTP_PASSWORD=${config.sops.placeholder."vaultwarden/smtp-password"}
    '';
    restartUnits = [ "vaultwarden.service" ];
  };
}
