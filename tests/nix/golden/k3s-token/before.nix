{ config, ... }:
{
  services.k3s.token = "@K3S_TOKEN@";
  services.k3s.agentToken = "@K3S_AGENT_TOKEN@";
}
