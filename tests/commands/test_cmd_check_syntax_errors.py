"""A ``.nix`` file that does not parse is read, but where tree-sitter cannot place the
text only as plain text, which knows no attribute paths: a password after a broken
indented string (``'it''s'`` ends it) went unreported while scan said nothing was
skipped and check said "safe to publish" (a stranger's typo).  The tree's file is
reported as read in part, check says "cannot verify" with the way out (fix its syntax),
the hook says so too; a version in history is read the same way and not reported (no
one can fix it there), and is never remembered clean for the tree's scan."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from secretkit.commands.check import run_check
from tests.conftest import commit_all, git
from tests.support.cli import run_main

BROKEN = b"""{ pkgs, ... }:
{
  services.postgresql.initialScript = pkgs.writeText "init.sql" ''
    CREATE ROLE app LOGIN;
    -- it''s the app's role
  '';
  networking.hostName = "box";
}
"""


def _broken(repo: Path) -> None:
    (repo / "box.nix").write_bytes(BROKEN)
    commit_all(repo)


def test_nix_parse_agrees_the_file_is_broken(tmp_path: Path) -> None:
    (tmp_path / "box.nix").write_bytes(BROKEN)
    parsed = subprocess.run(
        ["nix-instantiate", "--parse", str(tmp_path / "box.nix")], capture_output=True
    )
    assert parsed.returncode != 0


def test_scan_says_the_file_was_read_in_part(
    tmp_git_repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _broken(tmp_git_repo)
    monkeypatch.chdir(tmp_git_repo)
    _code, out, _err = run_main(capsys, "scan", "--format", "json", ".")
    report = json.loads(out)
    assert report["skipped"] == [
        {
            "path": "box.nix",
            "reason": "Nix syntax error at line 6: read as plain text where it does not parse",
        }
    ]
    _code, out, _err = run_main(capsys, "scan", ".")
    assert "no secrets found" not in out
    assert "not everything was read" in out


def test_check_cannot_verify_it_and_says_how_to_fix_it(tmp_git_repo: Path) -> None:
    _broken(tmp_git_repo)
    for _run in range(2):  # (the second with the history cache the first one left)
        result = run_check(tmp_git_repo)
        tree = [r for r in result.results if r.id == "plaintext-tree" and not r.ok]
        assert [r.message for r in tree] == [
            "cannot verify: box.nix (Nix syntax error at line 6: read as plain text where "
            "it does not parse)"
        ]
        assert tree[0].fix.startswith("fix its syntax (nix-instantiate --parse box.nix")
        # the same blob in history: read, not reported
        assert [r for r in result.results if r.id == "plaintext-history" and not r.ok] == []


def test_fixed_it_passes(tmp_git_repo: Path) -> None:
    _broken(tmp_git_repo)
    run_check(tmp_git_repo)
    (tmp_git_repo / "box.nix").write_bytes(BROKEN.replace(b"it''s", b"it'''s"))
    commit_all(tmp_git_repo)
    result = run_check(tmp_git_repo)
    assert [r for r in result.results if r.id.startswith("plaintext") and not r.ok] == []


def test_the_hook_blocks_it_with_the_same_way_out(
    tmp_git_repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_git_repo / "box.nix").write_bytes(BROKEN)
    git(tmp_git_repo, "add", "box.nix")
    monkeypatch.chdir(tmp_git_repo)
    code, out, err = run_main(capsys, "hook", "box.nix")
    err = out + err
    assert code == 1
    assert "box.nix: not read whole (Nix syntax error at line 6" in err
    assert "fix: fix its syntax (nix-instantiate --parse box.nix shows where)" in err
