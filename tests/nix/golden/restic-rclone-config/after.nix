{ config, ... }:
{
  services.restic.backups.drive = {
    repository = "rclone:gdrive:backups";
    passwordFile = "/run/keys/restic";
    rcloneConfig = {
      type = "drive";
    };
    environmentFile = config.sops.templates."restic-drive.env".path;
  };

  sops.secrets."restic/rclone/rclone-config-gdrive-client-secret" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."restic-drive.env" = {
    content = ''
      RCLONE_CONFIG_GDRIVE_CLIENT_SECRET=${config.sops.placeholder."restic/rclone/rclone-config-gdrive-client-secret"}
    '';
  };
}
