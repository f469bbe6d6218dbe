"""The two public NixOS configurations of ../shared/corpus/README.md: exactly one
finding, the reviewed ``initialPassword`` literal.

They are third-party code and never committed: fetch them into a scratch folder
(``git --git-dir=<mirror> archive <commit> | tar -x -C <dir>``) and point
``SECRETKIT_CORPUS`` at the folder holding ``simon/`` and ``mic92/`` (default
``/tmp/corpus``).  Without them the test is skipped with that reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from secretkit.scan.worktree import scan_tree

CORPUS = Path(os.environ.get("SECRETKIT_CORPUS", "/tmp/corpus"))


def _need(name: str) -> Path:
    path = CORPUS / name
    if not path.is_dir():
        pytest.skip(
            f"optional third-party corpus {name!r} not found in {CORPUS}: set "
            f"SECRETKIT_CORPUS to a folder holding a checkout of it as {name}/"
        )
    return path


def test_simonjanlov_nixos_config_has_exactly_the_reviewed_finding() -> None:
    report = scan_tree(_need("simon"))
    assert [(f.path, f.line, f.rule, f.attrpath) for f in report.findings] == [
        (
            "modules/common.nix",
            144,
            "secret-attribute",
            "config.users.users.${config.simon.username}.initialPassword",
        )
    ]


def test_mic92_dotfiles_has_no_finding() -> None:
    report = scan_tree(_need("mic92"))
    assert report.findings == []
    assert report.stats["files"] > 1000
