# Photos, documents, passwords and a helper container.
{ ... }:
let
  # one systemd hardening for the media services (a value, not a set written out)
  hardening = { ProtectSystem = "strict"; NoNewPrivileges = true; };
in
{
  networking.hostName = "media";
  boot.loader.grub.device = "/dev/sda";
  fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };
  # the NAS share, as the NixOS wiki's Samba page mounts it (with the password inline)
  fileSystems."/mnt/nas" = {
    device = "//nas.lan/media";
    fsType = "cifs";
    options = [ "x-systemd.automount" "noauto" "username=media" "password=@NAS_SMB_PASSWORD@" ];
  };

  services.immich = {
    enable = true;
    environment.DB_PASSWORD = "@IMMICH_DB_PASSWORD@";
  };

  services.paperless = {
    enable = true;
    settings = {
      PAPERLESS_OCR_LANGUAGE = "deu+eng";
      PAPERLESS_SECRET_KEY = "@PAPERLESS_SECRET_KEY@";
      PAPERLESS_ADMIN_PASSWORD = "@PAPERLESS_ADMIN_PASSWORD@";
    };
  };

  services.vaultwarden = {
    enable = true;
    config = {
      DOMAIN = "https://vault.example.net";
      ADMIN_TOKEN = "@VAULTWARDEN_ADMIN_TOKEN@";
      SMTP_PASSWORD = "@VAULTWARDEN_SMTP_PASSWORD@";
    };
  };

  systemd.services.photo-upload = {
    wantedBy = [ "multi-user.target" ];
    serviceConfig = hardening;
    environment.PHOTO_UPLOAD_TOKEN = "@PHOTO_UPLOAD_TOKEN@";
    script = "curl -H \"Authorization: Bearer $PHOTO_UPLOAD_TOKEN\" https://photos.example.net/in";
  };

  virtualisation.oci-containers.containers.paperless-ai = {
    image = "clusterzx/paperless-ai:latest";
    environment = {
      PAPERLESS_API_URL = "http://127.0.0.1:28981/api";
      PAPERLESS_API_TOKEN = "@PAPERLESS_API_TOKEN@";
    };
  };
}
