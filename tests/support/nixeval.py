"""``nix-instantiate --eval --strict --json`` of an expression, by the real Nix: what a
host's evaluation makes of a module migrate wrote (an option's value, a template's
content), without nixpkgs (the module is called with a stub ``config``)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import need_tool


def eval_json(expr: str, state: Path) -> object:
    """The value of ``expr`` (``state``: a directory for Nix's own state)."""
    nix = need_tool("nix-instantiate")
    proc = subprocess.run(
        [nix, "--eval", "--strict", "--json", "--expr", expr],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ, NIX_STATE_DIR=str(state)),
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)
