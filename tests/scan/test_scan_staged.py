"""``scan_staged(keep=…)`` hands back the staged bytes it read: exactly ``git cat-file
blob :<path>`` of each stage-0 path, and nothing for a conflicted or oversized one."""

from __future__ import annotations

import subprocess
from pathlib import Path

from secretkit.scan.staged import scan_staged
from tests.conftest import commit_all, git
from tests.support import fake


def _staged_blob(repo: Path, path: str) -> bytes:
    return subprocess.run(
        ["git", "cat-file", "blob", f":{path}"], cwd=repo, capture_output=True, check=True
    ).stdout


def test_keep_holds_the_staged_bytes_of_stage_0_paths_only(tmp_git_repo: Path) -> None:
    repo = tmp_git_repo
    (repo / "c.nix").write_text('{ networking.hostName = "x"; }\n')
    commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "c.nix").write_text(f'{{ users.users.a.password = "{fake.password("o")}"; }}\n')
    commit_all(repo, "other")
    git(repo, "checkout", "-q", "main")
    (repo / "c.nix").write_text(f'{{ users.users.a.password = "{fake.password("m")}"; }}\n')
    commit_all(repo, "main")
    subprocess.run(["git", "merge", "-q", "other"], cwd=repo, capture_output=True)  # conflict
    (repo / "a.nix").write_text(f'{{ users.users.b.password = "{fake.password("a")}"; }}\n')
    (repo / "big.txt").write_text("x" * 5000 + "\n")
    git(repo, "add", "a.nix", "big.txt")
    (repo / "a.nix").write_text("{ }\n")  # the work tree differs: the index decides
    kept: dict[str, bytes] = {}
    report = scan_staged(repo, ["a.nix", "big.txt", "c.nix"], max_bytes=4096, keep=kept)
    assert {f.path for f in report.findings} == {"a.nix", "c.nix"}  # c.nix: stage 2 scanned
    assert kept == {"a.nix": _staged_blob(repo, "a.nix")}
