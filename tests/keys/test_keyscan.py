"""Where `hosts add NAME --keyscan` looks for a host's key: the address a deploy tool
deploys it to, read from the flake without evaluating it."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.keys.keyscan import Target, deploy_target
from tests.keys.layouts import write

FLAKE = """{
  outputs = { self, nixpkgs, deploy-rs, ... }:
    let
      mkNode = host: hostname: {
        inherit hostname;
        profiles.system.path =
          deploy-rs.lib.x86_64-linux.activate.nixos self.nixosConfigurations.${host};
      };
      byIp = host: ip: { hostname = ip; sshUser = "deploy"; };
    in {
      nixosConfigurations.vesta = nixpkgs.lib.nixosSystem { modules = [ ./vesta.nix ]; };
      nixosConfigurations.hermes = nixpkgs.lib.nixosSystem { modules = [ ./hermes.nix ]; };
      nixosConfigurations.atlas = nixpkgs.lib.nixosSystem { modules = [ ./atlas.nix ]; };
      deploy.nodes = {
        vesta = mkNode "vesta" "vesta.lan";
        hermes = byIp "hermes" "10.20.0.1";
        atlas = mkNode "atlas" "${self.x}.lan";
      };
    };
}
"""


def test_a_node_made_by_a_helper_of_the_flake_is_scanned_at_its_hostname(tmp_path: Path) -> None:
    """A stranger's deploy-rs homelab: `vesta = mkNode "vesta" "vesta.lan";` was scanned
    at `vesta` (ssh-keyscan failed); the helper's `hostname` is its argument."""
    files = {
        "flake.nix": FLAKE,
        **{f"{h}.nix": "{ ... }: { }\n" for h in ("vesta", "hermes", "atlas")},
    }
    root = write(tmp_path, files)
    assert deploy_target(root, "vesta") == Target(
        "vesta.lan", None, "deploy-rs nodes.vesta (mkNode's hostname) in flake.nix"
    )
    assert deploy_target(root, "hermes") == Target(
        "10.20.0.1", None, "deploy-rs nodes.hermes (byIp's hostname) in flake.nix"
    )
    assert deploy_target(root, "atlas") is None  # (built with ${…}: not known here)


def test_a_scan_of_the_bare_name_that_fails_says_so_and_how_to_give_the_address(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """helper-105: a helper not followed (`mkNode2 { addr = …; }`) left the scan at the
    host's name; the failure did not say that no deploy target was read."""
    from tests.conftest import need_tool
    from tests.support.cli import run_main

    need_tool("ssh-keyscan")
    files = {
        "flake.nix": FLAKE,
        **{f"{h}.nix": "{ ... }: { }\n" for h in ("vesta", "hermes", "atlas")},
    }
    root = write(tmp_path, files)
    code, _out, err = run_main(capsys, "-C", str(root), "hosts", "add", "nowhere-zz9", "--keyscan")
    assert code != 0
    assert "no deploy target of nowhere-zz9 was read from the Nix code" in err
    assert err.strip().endswith(
        "(hint: give the address: secretkit hosts add nowhere-zz9 --keyscan HOST[:PORT])"
    )
