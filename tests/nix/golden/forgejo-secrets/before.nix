{ ... }:
{
  services.forgejo = {
    enable = true;
    settings = {
      server.DOMAIN = "git.example.net";
      mailer.PASSWD = "@FORGEJO_MAIL@";
    };
  };
}
