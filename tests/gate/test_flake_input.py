"""sops-nix's locked commit against the NixOS release the repository pins
(gate/flake_input.py; helper-119's repro 6)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from secretkit.gate.context import CheckContext
from secretkit.gate.flake_input import locked_for_release
from secretkit.gate.sops_verify import SopsJudge
from tests.conftest import git


def _check(repo: Path, release: str, locked_on: str) -> list[tuple[str, str]]:
    (repo / "flake.nix").write_text(
        f'{{ inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-{release}"; '
        'inputs.sops-nix.url = "github:Mic92/sops-nix"; outputs = _: { }; }\n'
    )
    when = int(dt.datetime.fromisoformat(locked_on).replace(tzinfo=dt.UTC).timestamp())
    lock = {
        "nodes": {
            "root": {"inputs": {"nixpkgs": "nixpkgs", "sops-nix": "sops-nix"}},
            "nixpkgs": {
                "locked": {"rev": "0" * 40, "lastModified": when},
                "original": {"owner": "NixOS", "ref": f"nixos-{release}", "repo": "nixpkgs"},
            },
            "sops-nix": {"locked": {"rev": "ab" * 20, "lastModified": when}},
        },
        "root": "root",
        "version": 7,
    }
    (repo / "flake.lock").write_text(json.dumps(lock))
    git(repo, "add", "-A")
    results = locked_for_release(CheckContext(root=repo, judge=SopsJudge()))
    assert all(not r.ok for r in results)
    return [(r.message, r.fix) for r in results]


@pytest.mark.parametrize(
    ("release", "locked_on", "verdict"),
    [
        ("24.11", "2026-03-01", "fails"),  # (after the Go 1.25 bump: buildGo125Module)
        ("25.05", "2026-02-10", "fails"),
        ("24.11", "2025-10-01", "unverified"),  # (after its last tested commit)
        ("24.11", "2025-08-01", "passes"),
        ("25.05", "2026-01-15", "passes"),
        ("25.11", "2026-06-01", "passes"),  # (master is tested with it)
    ],
)
def test_a_sops_nix_lock_newer_than_the_release_was_tested_with(
    tmp_git_repo: Path, release: str, locked_on: str, verdict: str
) -> None:
    found = _check(tmp_git_repo, release, locked_on)
    if verdict == "passes":
        assert found == []
        return
    ((message, fix),) = found
    assert message.startswith("cannot verify: " if verdict == "unverified" else "flake.lock")
    if verdict == "fails":
        assert "buildGo125Module" in message and "the host does not build" in message
    assert fix.startswith('pin it in flake.nix: inputs.sops-nix.url = "github:Mic92/sops-nix/')


def test_an_unstable_nixpkgs_pin_is_not_held_to_a_release(tmp_git_repo: Path) -> None:
    """An unstable pin dated after 25.05 reads as "25.05, unstable": its nixpkgs may
    well have Go 1.25, which sops-nix's CI tests unstable with."""
    _check(tmp_git_repo, "25.05", "2026-03-01")
    lock = json.loads((tmp_git_repo / "flake.lock").read_text())
    lock["nodes"]["nixpkgs"]["original"] = {"owner": "NixOS", "ref": "nixos-unstable"}
    october = int(dt.datetime(2025, 10, 1, tzinfo=dt.UTC).timestamp())  # (after 25.05)
    lock["nodes"]["nixpkgs"]["locked"]["lastModified"] = october
    (tmp_git_repo / "flake.lock").write_text(json.dumps(lock))
    (tmp_git_repo / "flake.nix").write_text(
        '{ inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable"; outputs = _: { }; }\n'
    )
    git(tmp_git_repo, "add", "-A")
    assert locked_for_release(CheckContext(root=tmp_git_repo, judge=SopsJudge())) == []


@pytest.mark.parametrize(
    ("release", "url", "flagged"),
    [
        ("25.05", "github:Mic92/sops-nix", True),  # (the next lock takes master's newest)
        ("25.05", "github:Mic92/sops-nix/17eea6f3816ba6568b8c81db8a4e6ca438b30b7c", False),
        ("24.11", "github:Mic92/sops-nix", True),
        ("25.11", "github:Mic92/sops-nix", False),  # (master is tested with it)
    ],
)
def test_a_sops_nix_input_flake_lock_does_not_lock(
    tmp_git_repo: Path, release: str, url: str, flagged: bool
) -> None:
    """helper-132: no sops-nix in flake.lock passed as 'each imports its NixOS module';
    the next `nix flake lock` takes master's newest, which 25.05 and older cannot build."""
    _check(tmp_git_repo, release, "2025-06-01")
    lock = json.loads((tmp_git_repo / "flake.lock").read_text())
    del lock["nodes"]["sops-nix"], lock["nodes"]["root"]["inputs"]["sops-nix"]
    (tmp_git_repo / "flake.lock").write_text(json.dumps(lock))
    flake = (tmp_git_repo / "flake.nix").read_text()
    (tmp_git_repo / "flake.nix").write_text(flake.replace("github:Mic92/sops-nix", url))
    git(tmp_git_repo, "add", "-A")
    results = locked_for_release(CheckContext(root=tmp_git_repo, judge=SopsJudge()))
    assert bool(results) == flagged
    if flagged:
        (result,) = results
        assert result.message.startswith("cannot verify: no flake.lock locks sops-nix")
        assert 'inputs.sops-nix.url = "github:Mic92/sops-nix/' in result.fix


def test_a_sops_nix_input_with_no_flake_lock_at_all(tmp_git_repo: Path) -> None:
    """helper-133: with no flake.lock, the first `nix flake lock` takes master's newest."""
    _check(tmp_git_repo, "25.05", "2025-06-01")
    (tmp_git_repo / "flake.lock").unlink()
    git(tmp_git_repo, "add", "-A")
    (result,) = locked_for_release(CheckContext(root=tmp_git_repo, judge=SopsJudge()))
    assert result.message.startswith("cannot verify: no flake.lock locks sops-nix")
