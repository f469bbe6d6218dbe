"""How a repository without a flake is told to import sops-nix's module: through the
pin its npins or niv sources hold, after pinning it there (at the commit its NixOS
release needs), else a fetch (helper-121: migrate said to fetch master on 24.11 while
npins pinned sops-nix already)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from secretkit.nix.no_flake_module import module_text
from secretkit.nix.sops_nix_pins import TESTED_UNTIL
from tests.conftest import need_tool

NPINS = {"pins": {"sops-nix": {"type": "Git", "branch": "master", "revision": "ab" * 20}}}
NIV = {"sops-nix": {"branch": "master", "owner": "Mic92", "repo": "sops-nix", "rev": "ab" * 20}}
COMMIT_24_11 = TESTED_UNTIL["24.11"][0]


def _write(root: Path, rel: str, data: object) -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("files", "release", "starts", "says"),
    [
        # (its pin, re-pinned first at the commit the release needs: check fails another)
        ({"npins/sources.json": NPINS}, "24.11", '"${(import ./npins).sops-nix}/modules/sops"',
         f"pinned at {COMMIT_24_11} first (`npins remove sops-nix; npins add github"),
        ({"npins/sources.json": NPINS}, "26.05", '"${(import ./npins).sops-nix}/modules/sops"',
         "(npins' pin sops-nix; as a file"),
        ({"nix/sources.json": NIV}, None, '"${(import ./nix/sources.nix).sops-nix}/modules/sops"',
         None),
        ({"npins/sources.json": {"pins": {}}}, "24.11", '"${(import ./npins).sops-nix}',
         f"once `npins add github -b master --at {COMMIT_24_11} Mic92 sops-nix` pins it"),
        ({"npins/sources.json": {"pins": {}}}, None, '"${(import ./npins).sops-nix}',
         "once `npins add github -b master Mic92 sops-nix` pins it"),
        ({"nix/sources.json": {}}, "24.11", '"${(import ./nix/sources.nix).sops-nix}',
         f"once `niv add Mic92/sops-nix -r {COMMIT_24_11}` pins it"),
        ({}, "24.11", '"${builtins.fetchTarball "https://github.com/Mic92/sops-nix/archive/'
         f'{COMMIT_24_11}.tar.gz"}}/modules/sops"', "the last sops-nix commit tested with"),
        ({}, None, '"${builtins.fetchTarball "https://github.com/Mic92/sops-nix/archive/'
         'master.tar.gz"}/modules/sops"', "it follows master, unpinned"),
    ],
)  # fmt: skip
def test_the_module_a_repository_without_a_flake_imports(
    tmp_path: Path, files: dict[str, object], release: str | None, starts: str, says: str | None
) -> None:
    for rel, data in files.items():
        _write(tmp_path, rel, data)
    text = module_text(tmp_path, release)
    assert text.startswith(starts), text
    assert says is None or says in text
    # the expression itself is Nix (as the fix gives it)
    expression = re.match(r'"\$\{.*?\}/modules/sops"', text)
    assert expression is not None
    nix = need_tool("nix-instantiate")
    proc = subprocess.run([nix, "--parse", "-E", expression.group()], capture_output=True)
    assert proc.returncode == 0, proc.stderr
