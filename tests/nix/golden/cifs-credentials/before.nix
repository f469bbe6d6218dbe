{ ... }:
{
  fileSystems."/mnt/nas" = {
    device = "//nas.lan/media";
    fsType = "cifs";
    options = [
      "x-systemd.automount"
      "noauto"
      "username=stian"
      "password=@NAS_PASSWORD@"
    ];
  };
  fileSystems."/mnt/backup" = {
    device = "//nas.lan/backup";
    fsType = "cifs";
    options = [ "username=backup,password=@BACKUP_PASSWORD@,uid=1000,gid=100" ];
  };
}
