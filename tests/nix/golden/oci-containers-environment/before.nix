{ ... }:
{
  virtualisation.oci-containers.containers.paperless-ai = {
    image = "clusterzx/paperless-ai:latest";
    environment = {
      PAPERLESS_API_URL = "http://paperless:28981/api";
      PAPERLESS_API_TOKEN = "@CONTAINER_TOKEN@";
    };
  };
}
