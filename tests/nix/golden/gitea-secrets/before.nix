{ config, ... }:
{
  services.gitea = {
    enable = true;
    database.password = "@GITEA_DB@";
    settings.mailer = {
      ENABLED = true;
      USER = "gitea@example.net";
      PASSWD = "@GITEA_MAIL@";
    };
  };
}
