"""`sops.secrets."<name>"` declarations read from the syntax tree (for `rotate value`)."""

from __future__ import annotations

from secretkit.nix.sops_decls import declarations_in

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
