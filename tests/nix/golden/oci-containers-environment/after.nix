{ config, ... }:
{
  virtualisation.oci-containers.containers.paperless-ai = {
    image = "clusterzx/paperless-ai:latest";
    environment = {
      PAPERLESS_API_URL = "http://paperless:28981/api";
    };
    environmentFiles = [ config.sops.templates."paperless-ai-container.env".path ];
  };

  sops.secrets."containers/paperless-api-token" = {
    sopsFile = ../../secrets/host1.yaml;
  };
  sops.templates."paperless-ai-container.env" = {
    content = ''
      PAPERLESS_API_TOKEN=${config.sops.placeholder."containers/paperless-api-token"}
    '';
    restartUnits = [ "${config.virtualisation.oci-containers.containers.paperless-ai.serviceName or "${config.virtualisation.oci-containers.backend}-paperless-ai"}.service" ];
  };
}
