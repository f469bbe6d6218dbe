"""path_history.py: each version of a few paths, once, at the oldest commit that added
it there, a symbolic link told apart; a version only purge's backup holds only when
asked for."""

from __future__ import annotations

import os
from pathlib import Path

from secretkit.git.path_history import path_versions
from tests.conftest import commit_all, git


def test_each_version_at_its_oldest_commit_and_links_told_apart(tmp_git_repo: Path) -> None:
    repo = tmp_git_repo
    (repo / "a").write_text("one\n")
    first = commit_all(repo, "one")
    (repo / "other").write_text("x\n")
    commit_all(repo, "unrelated")
    (repo / "a").write_text("two\n")
    second = commit_all(repo, "two")
    (repo / "a").write_text("one\n")  # (the first version again: still the first commit's)
    os.symlink("a", repo / "l")
    third = commit_all(repo, "back, and a link")
    one = git(repo, "rev-parse", f"{first}:a").strip()
    two = git(repo, "rev-parse", f"{second}:a").strip()
    link = git(repo, "rev-parse", f"{third}:l").strip()
    assert sorted(path_versions(repo, ["a", "l"])) == sorted(
        [("a", one, first, False), ("a", two, second, False), ("l", link, third, True)]
    )
    git(repo, "update-ref", "refs/secretkit/backup/x/heads/main", "HEAD")
    git(repo, "reset", "-q", "--hard", first)
    assert sorted(path_versions(repo, ["a"])) == [("a", one, first, False)]
    assert len(list(path_versions(repo, ["a"], every_ref=True))) == 2
