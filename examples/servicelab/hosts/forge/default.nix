# Git hosting, with its mail and its backups.
{ pkgs, ... }:
{
  networking.hostName = "forge";
  boot.loader.grub.device = "/dev/sda";
  fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };

  services.gitea = {
    enable = true;
    database.type = "postgres";
    database.password = "@GITEA_DB_PASSWORD@";
    settings.mailer = {
      ENABLED = true;
      SMTP_ADDR = "smtp.example.net";
      USER = "forge@example.net";
      PASSWD = "@GITEA_MAILER_PASSWORD@";
    };
  };

  # a CI runner registered at the forge itself
  services.gitea-actions-runner.instances.local = {
    enable = true;
    name = "forge-runner";
    url = "https://forge.example.net";
    token = "@GITEA_RUNNER_TOKEN@";
    labels = [ "native:host" ];
  };

  services.restic.backups.forge = {
    repository = "rclone:offsite:forge";
    passwordFile = "${pkgs.writeText "restic-password" "@RESTIC_PASSWORD@"}";
    rcloneConfig = {
      type = "b2";
      account = "0012345";
      key = "@RCLONE_B2_KEY@";
    };
    paths = [ "/var/lib/gitea" ];
  };
}
