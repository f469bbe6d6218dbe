{ config, ... }:
{
  services.paperless = {
    enable = true;
    settings = {
      PAPERLESS_OCR_LANGUAGE = "deu+eng";
    };
    environmentFile = config.sops.templates."paperless.env".path;
  };

  sops.secrets."paperless/paperless-secret-key" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."paperless.env" = {
    content = ''
      PAPERLESS_SECRET_KEY=${config.sops.placeholder."paperless/paperless-secret-key"}
    '';
    restartUnits = [ "paperless-web.service" "paperless-scheduler.service" "paperless-task-queue.service" "paperless-consumer.service" ];
  };
}
