"""colmena hives and the NixOps/morph networks of the same shape: which attributes
are nodes."""

from __future__ import annotations

from pathlib import Path

from secretkit.nix.hosts import discover
from tests.keys.layouts import write


def test_a_hives_network_attribute_is_its_settings_not_a_node(tmp_path: Path) -> None:
    """colmena reads ``network`` as its older name for ``meta``; a root network.nix that
    is a NixOS module (a function, no ``network`` attribute) is no network of hosts."""
    files = {
        "hive.nix": (
            '{\n  network.description = "lan";\n  alpha = { imports = [ ./alpha.nix ]; };\n}\n'
        ),
        "network.nix": "{ ... }: { networking.firewall.enable = true; }\n",
        "alpha.nix": "{ ... }: { imports = [ ./network.nix ]; }\n",
    }
    inv = discover(write(tmp_path, files))
    assert {n: h.source for n, h in inv.hosts.items()} == {"alpha": "colmena"}
    assert inv.hosts_of_file("network.nix") == {"alpha"}
    assert inv.unresolved == []
