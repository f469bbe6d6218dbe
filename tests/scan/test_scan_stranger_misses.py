"""Secrets a stranger's homelab held where the scanner did not look: the values of a
let-bound attrset given to secret options by attribute (``psk = secrets.wifi;``),
and secret flags of storage tools in a script."""

from __future__ import annotations

from pathlib import Path

from secretkit.scan.worktree import scan_tree
from tests.support import fake


def _found(root: Path) -> list[tuple[str, int, str]]:
    return sorted((f.path, f.line, f.secret.reveal()) for f in scan_tree(root).findings)


def test_a_let_bound_attrsets_value_given_to_a_secret_option_is_found(tmp_path: Path) -> None:
    wifi, grafana, colour = fake.password("wifi"), fake.password("grafana"), fake.password("c")
    (tmp_path / "a.nix").write_text(
        "{ config, ... }:\nlet\n  secrets = {\n"
        f'    wifi = "{wifi}";\n    grafana = "{grafana}";\n    colour = "{colour}";\n  }};\n'
        "in {\n"
        '  networking.wireless.networks."home".psk = secrets.wifi;\n'
        "  services.grafana.settings.security.admin_password = lib.mkForce secrets.grafana;\n"
        "  stylix.base = secrets.colour;\n"  # (no secret option: not a secret by this)
        "}\n"
    )
    assert _found(tmp_path) == [("a.nix", 4, wifi), ("a.nix", 5, grafana)]
