{ pkgs, ... }:
{
  services.postfix = {
    enable = true;
    relayHost = "smtp.example.net";
    mapFiles.sasl_passwd = pkgs.writeText "sasl_passwd" "[smtp.example.net]:587 relay@example.net:@RELAY_PASSWORD@";
  };
}
