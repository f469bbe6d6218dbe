"""A blob of the history is judged at every path it was published under that a scan
reads differently: the same bytes are nothing as ``notes.txt`` and a secret as
``secrets/token``, a Nix file's text is read otherwise as ``.env``.  Paths that read
alike give one finding, on a first run and on the cache alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.commands.check import run_check
from secretkit.scan.history import scan_history
from secretkit.scan.many_files import PARALLEL_MIN_FILES
from tests.conftest import commit_all, git
from tests.support import fake


def _found(repo: Path, **options: object) -> list[tuple[str, str]]:
    report = scan_history(repo, **options)  # type: ignore[arg-type]
    messages = git(repo, "log", "--format=%H %s").split("\n")
    subject = dict(line.split(" ", 1) for line in messages if line)
    return sorted((subject[f.commit], f.path) for f in report.findings if f.commit)


def _padding(repo: Path, many: bool) -> None:
    """Enough other blobs for the process pool (``many``), or none."""
    for i in range(PARALLEL_MIN_FILES + 5 if many else 0):
        (repo / f"mod{i}.nix").write_text(f"{{ services.x{i}.enable = true; }}\n")


@pytest.mark.parametrize("many", [False, True], ids=["in-process", "pool"])
def test_bytes_renamed_into_a_secrets_directory_are_a_secret_there(
    tmp_git_repo: Path, many: bool
) -> None:
    """notes.txt (nothing) renamed to secrets/token (a one-line secret file), then
    deleted: the rename's commit published the secret under its name."""
    _padding(tmp_git_repo, many)
    (tmp_git_repo / "notes.txt").write_text(fake.password("moved") + "Zq7\n")
    commit_all(tmp_git_repo, "notes")
    (tmp_git_repo / "secrets").mkdir()
    git(tmp_git_repo, "mv", "notes.txt", "secrets/token")
    commit_all(tmp_git_repo, "rename")
    git(tmp_git_repo, "rm", "-q", "secrets/token")
    commit_all(tmp_git_repo, "delete")
    expected = [("rename", "secrets/token")]
    assert _found(tmp_git_repo, use_cache=False) == expected
    assert _found(tmp_git_repo) == expected  # first run, writes the cache
    assert _found(tmp_git_repo) == expected  # from the cache
    failed = [c for c in run_check(tmp_git_repo).failed if c.id == "plaintext-history"]
    assert len(failed) == 1 and "secrets/token" in failed[0].message


def test_a_rename_in_a_later_commit_is_judged_on_the_cached_run(tmp_git_repo: Path) -> None:
    """The cache knows notes.txt clean; the commit that moves it is walked alone."""
    _padding(tmp_git_repo, True)
    (tmp_git_repo / "notes.txt").write_text(fake.password("later") + "Zq7\n")
    commit_all(tmp_git_repo, "notes")
    assert _found(tmp_git_repo) == []
    (tmp_git_repo / "secrets").mkdir()
    git(tmp_git_repo, "mv", "notes.txt", "secrets/token")
    commit_all(tmp_git_repo, "rename")
    assert _found(tmp_git_repo) == [("rename", "secrets/token")]
    assert _found(tmp_git_repo, use_cache=False) == [("rename", "secrets/token")]


@pytest.mark.parametrize("many", [False, True], ids=["in-process", "pool"])
def test_one_text_in_two_formats_is_judged_in_each(tmp_git_repo: Path, many: bool) -> None:
    """A Nix text copied to a .env file is read as an env file too (its line is an
    assignment there); copies that read alike (b.nix) give no second finding."""
    _padding(tmp_git_repo, many)
    text = f'{{\n  users.users.a.password = "{fake.password("twice")}";\n}}\n'
    (tmp_git_repo / "a.nix").write_text(text)
    commit_all(tmp_git_repo, "nix")
    (tmp_git_repo / "b.nix").write_text(text)
    (tmp_git_repo / "a.env").write_text(text)
    commit_all(tmp_git_repo, "copies")
    expected = [("copies", "a.env"), ("nix", "a.nix")]
    assert _found(tmp_git_repo, use_cache=False) == expected
    assert _found(tmp_git_repo) == expected
    assert _found(tmp_git_repo) == expected


def test_a_blob_too_large_to_hold_is_judged_at_each_reading(tmp_git_repo: Path) -> None:
    """A blob over the size limit (streamed from git, scanned in pieces) at two paths
    the walk reads apart is judged at each, the same on the cached run."""
    big = "x = 1;\n" * 3000 + f'password = "{fake.password("big")}";\n'
    (tmp_git_repo / "big.nix").write_text(big)
    (tmp_git_repo / "big.env").write_text(big)
    commit_all(tmp_git_repo, "big")
    first = scan_history(tmp_git_repo, max_bytes=4096)
    second = scan_history(tmp_git_repo, max_bytes=4096)
    paths = sorted(f.path for f in first.findings)
    assert paths == ["big.env", "big.nix"]
    assert sorted(f.path for f in second.findings) == paths
    assert first.stats["files"] == second.stats["files"]
