{ config, ... }:
{
  environment.etc."restic/password".text = "@RESTIC_PASSWORD@";
  environment.etc."app/config.ini" = {
    text = ''
      [server]
      user = app
      password = @APP_PASSWORD@
    '';
    mode = "0440";
  };
}
