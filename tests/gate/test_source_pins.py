"""sops-nix-module without a flake: the sops-nix a hive imports from npins or niv
sources is pinned there, and builds with the NixOS release the repository pins
(helper-121: a fetch of master on 24.11, an npins pin of a 2026 commit and an import of
a pin npins did not hold all passed check)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secretkit.gate.context import CheckContext
from secretkit.gate.sops_verify import SopsJudge
from secretkit.gate.source_pins import non_flake_sops_nix
from secretkit.nix.sops_nix_pins import TESTED_UNTIL
from tests.conftest import git

HIVE = (
    "let sources = import ./npins; in {\n  meta.nixpkgs = import sources.nixpkgs { };\n"
    "  defaults = { ... }: { imports = [ IMPORT ]; };\n"
    '  box = { ... }: { networking.hostName = "box"; };\n}\n'
)
FROM_SOURCES = '"${sources.sops-nix}/modules/sops"'
FETCH = (
    '"${builtins.fetchTarball "https://github.com/Mic92/sops-nix/archive/REV.tar.gz"}/modules/sops"'
)
COMMIT_24_11 = TESTED_UNTIL["24.11"][0]


def _pin(branch: str, revision: str) -> dict[str, object]:
    return {"type": "Git", "branch": branch, "revision": revision}


def _check(
    repo: Path, module: str, pins: dict[str, object], branch: str
) -> list[tuple[bool, str, str]]:
    (repo / "hive.nix").write_text(HIVE.replace("IMPORT", module))
    (repo / "npins").mkdir(exist_ok=True)
    sources = {"nixpkgs": _pin(branch, "cd" * 20), **pins}
    (repo / "npins" / "sources.json").write_text(json.dumps({"pins": sources, "version": 5}))
    git(repo, "add", "-A")
    return [
        (r.ok, r.message, r.fix)
        for r in non_flake_sops_nix(CheckContext(root=repo, judge=SopsJudge()))
    ]


@pytest.mark.parametrize(
    ("module", "pins", "branch", "expected"),
    [
        # the last commit tested with 24.11, pinned in npins: builds
        (FROM_SOURCES, {"sops-nix": _pin("master", COMMIT_24_11)}, "nixos-24.11", None),
        # master after 5c23dc81 needs buildGo125Module: fails on 24.11
        (FETCH.replace("REV", "master"), {}, "nixos-24.11",
         "hive.nix fetches sops-nix at master, whose master builds sops-install-secrets with "
         "buildGo125Module"),
        # another revision: no date is recorded with it to tell
        (FROM_SOURCES, {"sops-nix": _pin("master", "56b24064" + "0" * 32)}, "nixos-24.11",
         "cannot verify: npins/sources.json pins sops-nix at 56b240640000, a revision"),
        # no pin of that name: the hive does not evaluate (attribute 'sops-nix' missing)
        (FROM_SOURCES, {}, "nixos-24.11",
         "hive.nix imports sops-nix's module from its sources' sops-nix, and "
         "npins/sources.json pins none"),
        # a release master builds for: any revision
        (FETCH.replace("REV", "master"), {}, "nixos-unstable", None),
        (FROM_SOURCES, {"sops-nix": _pin("master", "56b24064" + "0" * 32)}, "nixos-26.05", None),
    ],
)  # fmt: skip
def test_the_sops_nix_a_hive_without_a_flake_imports(
    tmp_git_repo: Path, module: str, pins: dict[str, object], branch: str, expected: str | None
) -> None:
    results = _check(tmp_git_repo, module, pins, branch)
    if expected is None:
        assert results == []
        return
    ((ok, message, fix),) = results
    assert not ok and message.startswith(expected), message
    assert COMMIT_24_11 in fix
    if "npins/sources.json pins sops-nix at" in message:
        assert f"npins add github -b master --at {COMMIT_24_11} Mic92 sops-nix" in fix
