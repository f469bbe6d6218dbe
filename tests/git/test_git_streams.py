"""secretkit.git.streams: a git command's NUL-separated output read as git writes it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from secretkit.errors import UserError
from secretkit.git import run_git, streams
from tests.conftest import commit_all

DIFF_TREE = ["diff-tree", "--stdin", "-r", "--root", "-m", "-z", "--no-renames"]


def _history(repo: Path, commits: int) -> list[str]:
    for n in range(commits):
        (repo / f"dir {n}").mkdir()
        for m in range(3):
            (repo / f"dir {n}" / f"file-{m}.nix").write_text(f"{{ n = {n}; m = {m}; }}\n")
        commit_all(repo, f"commit {n}")
    return run_git(repo, "rev-list", "--all").stdout.decode().split()


def test_parts_are_those_of_the_whole_output(tmp_git_repo: Path) -> None:
    commits = _history(tmp_git_repo, 4)
    whole = run_git(tmp_git_repo, *DIFF_TREE, input="".join(f"{c}\n" for c in commits).encode())
    expected = whole.stdout.split(b"\0")[:-1]  # (the output ends in a NUL)
    assert len(expected) > 20
    assert list(streams.nul_parts(tmp_git_repo, DIFF_TREE, commits)) == expected


def test_a_part_cut_by_a_read_is_joined_again(
    tmp_git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits = _history(tmp_git_repo, 3)
    whole = run_git(tmp_git_repo, *DIFF_TREE, input="".join(f"{c}\n" for c in commits).encode())
    monkeypatch.setattr(streams, "_CHUNK", 7)  # (every part spans reads)
    assert (
        list(streams.nul_parts(tmp_git_repo, DIFF_TREE, commits)) == whole.stdout.split(b"\0")[:-1]
    )


def test_a_failing_git_is_one_clear_error(tmp_git_repo: Path) -> None:
    commits = _history(tmp_git_repo, 1)
    with pytest.raises(UserError, match=r"^git diff-tree failed: .*bad revision"):
        list(streams.nul_parts(tmp_git_repo, ["diff-tree", "-z", "no-such-rev", "--"], commits))


def test_leaving_early_stops_git(tmp_git_repo: Path) -> None:
    commits = _history(tmp_git_repo, 2)
    # many commits asked again and again: git would write for a while
    parts = streams.nul_parts(tmp_git_repo, DIFF_TREE, commits * 20000)
    assert next(parts)
    started = time.monotonic()
    parts.close()  # (kills git and reaps it; does not wait for the rest of its output)
    assert time.monotonic() - started < 5
