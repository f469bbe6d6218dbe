{ ... }:
{
  services.rke2 = {
    enable = true;
    role = "server";
    token = "@RKE2_TOKEN@";
  };
}
