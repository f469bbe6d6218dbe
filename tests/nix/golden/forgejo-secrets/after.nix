{ config, ... }:
{
  services.forgejo = {
    enable = true;
    settings = {
      server.DOMAIN = "git.example.net";
    };
    secrets.mailer.PASSWD = config.sops.secrets."forgejo/mailer/passwd".path;
  };

  sops.secrets."forgejo/mailer/passwd" = {
    sopsFile = ../../secrets/host1.yaml;
    restartUnits = [ "forgejo.service" ];
  };
}
