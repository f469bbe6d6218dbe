"""networking.wireguard's key files under either backend.  With
``networking.wireguard.useNetworkd`` the key file becomes the netdev's
``PrivateKeyFile=``, read by systemd-networkd as ``systemd-network``, and there is no
``wireguard-<i>.service``; migrate had written a root-only file (the interface never
came up) restarting a unit that does not exist (a stranger's run on a networkd host).
The declaration now asks the host's own configuration; evaluated here by the real
``nix-instantiate --eval`` under each backend, and on a release without the option."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.nix.test_nix_catalogue import migrated_golden
from tests.support.nixeval import eval_json

KEY = "wireguard/wg0/private-key"
SHARED = "wireguard/wg0/offsite/preshared-key"


def _declared(tmp_path: Path, wireguard: str) -> dict[str, dict[str, object]]:
    """``owner`` and ``restartUnits`` of the two declarations migrate writes, as Nix
    evaluates them with ``config.networking.wireguard = <wireguard>``."""
    module = migrated_golden("wireguard-keys", tmp_path)
    expr = (
        f"let m = import {module} {{ config = {{ networking.wireguard = {wireguard}; }}; }}; "
        "in builtins.mapAttrs (_: d: { inherit (d) owner restartUnits; }) m.sops.secrets"
    )
    result = eval_json(expr, tmp_path / "state")
    assert isinstance(result, dict)
    return result


@pytest.mark.parametrize(
    ("wireguard", "owner", "units"),
    [
        ("{ useNetworkd = true; }", "systemd-network", ["systemd-networkd.service"]),
        ("{ useNetworkd = false; }", "root", ["wireguard-wg0.service"]),
        ("{ }", "root", ["wireguard-wg0.service"]),  # (a release without the option)
    ],
)
def test_the_key_file_is_for_the_process_the_host_s_backend_runs(
    tmp_path: Path, wireguard: str, owner: str, units: list[str]
) -> None:
    declared = _declared(tmp_path, wireguard)
    assert declared == {
        KEY: {"owner": owner, "restartUnits": units},
        SHARED: {"owner": owner, "restartUnits": units},
    }
