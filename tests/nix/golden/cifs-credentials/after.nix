{ config, ... }:
{
  fileSystems."/mnt/nas" = {
    device = "//nas.lan/media";
    fsType = "cifs";
    options = [
      "x-systemd.automount"
      "noauto"
      "username=stian"
      "credentials=${config.sops.templates."cifs-mnt-nas".path}"
    ];
  };
  fileSystems."/mnt/backup" = {
    device = "//nas.lan/backup";
    fsType = "cifs";
    options = [ "username=backup,credentials=${config.sops.templates."cifs-mnt-backup".path},uid=1000,gid=100" ];
  };

  sops.secrets."cifs/mnt-nas/password" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.secrets."cifs/mnt-backup/password" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."cifs-mnt-nas" = {
    content = ''
      password=${config.sops.placeholder."cifs/mnt-nas/password"}
    '';
  };
  sops.templates."cifs-mnt-backup" = {
    content = ''
      password=${config.sops.placeholder."cifs/mnt-backup/password"}
    '';
  };
}
