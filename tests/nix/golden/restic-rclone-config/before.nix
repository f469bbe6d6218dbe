{ ... }:
{
  services.restic.backups.drive = {
    repository = "rclone:gdrive:backups";
    passwordFile = "/run/keys/restic";
    rcloneConfig = {
      type = "drive";
      client_secret = "@RCLONE_CLIENT_SECRET@";
    };
  };
}
