{ config, ... }:
{
  programs.msmtp = {
    enable = true;
    accounts.default = {
      host = "smtp.example.net";
      auth = true;
      user = "alerts@example.net";
      passwordeval = "cat ${config.sops.secrets."msmtp/default/password".path} && echo";
    };
    accounts.backup = {
      host = "smtp.example.net";
      passwordeval = "cat ${config.sops.secrets."msmtp/backup/password".path} && echo";
    };
  };

  sops.secrets."msmtp/default/password" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.secrets."msmtp/backup/password" = {
    sopsFile = ../../secrets/host1.yaml;
  };
}
