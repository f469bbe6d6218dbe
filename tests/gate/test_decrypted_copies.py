"""The decrypted-copy point's pure part: which names are twins of a sops file."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.gate.context import CheckContext
from secretkit.gate.decrypted_copies import is_twin
from secretkit.gate.sops_verify import SopsJudge
from tests.conftest import git

SOPS = {"secrets/observer.yaml", "hosts/laptop/secrets.json"}


@pytest.mark.parametrize(
    ("name", "twin"),
    [
        ("secrets/observer.dec.yaml", True),
        ("secrets/observer.decrypted.yaml", True),
        ("secrets/observer.yaml.dec", True),
        ("secrets/observer.plain.yaml", True),
        ("secrets/observer.yaml.bak", True),
        ("secrets/observer.yaml~", True),
        ("hosts/laptop/secrets.plaintext.json", True),
        ("anywhere/else.dec.env", True),
        ("secrets/observer.yaml", False),  # the sops file itself
        ("secrets/laptop.yaml", False),
        ("other/observer.dec", True),  # *.dec anywhere
        ("other/observer.yaml.bak", False),  # a backup twin only next to its sops file
        ("secrets/observers.yaml", False),
        ("docs/decrypt.md", False),
    ],
)
def test_twins_of_sops_files(name: str, twin: bool) -> None:
    assert is_twin(name, SOPS) is twin


def test_a_copy_is_said_committed_only_once_head_holds_it(tmp_git_repo: Path) -> None:
    """helper-128: a staged copy was called "(committed)", with "rotate its values: the
    plaintext is in history" — nothing is published before the commit."""
    from secretkit.gate.decrypted_copies import _where

    (tmp_git_repo / "a.txt").write_text("a\n")
    git(tmp_git_repo, "add", "a.txt")
    git(tmp_git_repo, "commit", "-q", "-m", "a")
    (tmp_git_repo / "b.txt").write_text("b\n")
    git(tmp_git_repo, "add", "b.txt")
    (tmp_git_repo / "c.txt").write_text("c\n")
    ctx = CheckContext(root=tmp_git_repo, judge=SopsJudge())
    assert [_where(ctx, p) for p in ("a.txt", "b.txt", "c.txt")] == [
        "committed",
        "staged, not committed yet",
        "untracked, not ignored",
    ]
