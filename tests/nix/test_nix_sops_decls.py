"""`sops.secrets."<name>"` declarations read from the syntax tree (for `rotate value`)."""

from __future__ import annotations

from secretkit.nix.sops_decls import BY_CONFIGURATION, declarations_in

SOURCE = b"""{ config, ... }:
{
  sops.secrets."a/b" = {
    restartUnits = [ "x.service" "y.service" ];
  };
  config.sops.secrets = {
    c = { key = "shared/c"; restartUnits = [ "q.service" ]; };
  };
  sops.secrets.d.restartUnits = [ "r.service" ];
  sops.secrets.e = { owner = "e"; };
  services.x.restartUnits = [ "not-a-secret.service" ];
}
"""


def test_declarations_with_keys_and_units() -> None:
    found = {d.name: d for d in declarations_in("m.nix", SOURCE)}
    assert set(found) == {"a/b", "c", "d", "e"}
    assert found["a/b"].restart_units == ["x.service", "y.service"]
    assert found["a/b"].line == 3
    assert (found["c"].key_path, found["c"].restart_units) == ("shared/c", ["q.service"])
    assert found["d"].restart_units == ["r.service"]
    assert (found["e"].key_path, found["e"].restart_units) == ("e", [])


def test_a_unit_named_by_the_host_s_configuration_is_said_to_be_so() -> None:
    """An OCI container's unit (``"${…backend}-<name>.service"``) and wireguard's (an
    ``if`` on the backend) are restarted too, under a name known only at deploy: rotate
    had said "no restartUnits declared" for them, or printed the expression's text."""
    source = b"""{ config, ... }:
{
  sops.secrets.wg.restartUnits = if config.x or false then [ "a.service" ] else [ "b" ];
  sops.secrets.tok = { };
  sops.templates."app.env" = {
    content = "TOKEN=${config.sops.placeholder.tok}";
    restartUnits = [ "${config.virtualisation.oci-containers.backend}-app.service" "z.service" ];
  };
}
"""
    found = {d.name: d for d in declarations_in("m.nix", source)}
    assert found["wg"].restart_units == [BY_CONFIGURATION]
    assert found["tok"].restart_units == [BY_CONFIGURATION, "z.service"]
