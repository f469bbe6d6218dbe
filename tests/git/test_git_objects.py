"""secretkit.git.objects with real repositories."""

from __future__ import annotations

import os
from pathlib import Path

from secretkit.git.objects import (
    history_blobs,
    index_entries,
    object_sizes,
    read_blob,
    read_blobs,
    root_commits,
    tracked_and_untracked,
    untracked,
)
from tests.conftest import commit_all, git


def test_tracked_and_untracked_not_ignored(tmp_git_repo: Path) -> None:
    (tmp_git_repo / ".gitignore").write_text("*.log\n")
    (tmp_git_repo / "a.nix").write_text("{ }\n")
    commit_all(tmp_git_repo)
    (tmp_git_repo / "new file.nix").write_text("{ }\n")
    (tmp_git_repo / "x.log").write_text("ignored\n")
    assert tracked_and_untracked(tmp_git_repo) == [".gitignore", "a.nix", "new file.nix"]
    assert untracked(tmp_git_repo) == ["new file.nix"]


def test_index_entries_regular_files_only(tmp_git_repo: Path) -> None:
    (tmp_git_repo / "a.nix").write_text("{ }\n")
    os.symlink("a.nix", tmp_git_repo / "link.nix")
    (tmp_git_repo / "run.sh").write_text("#!/bin/sh\n")
    (tmp_git_repo / "run.sh").chmod(0o755)
    git(tmp_git_repo, "add", ".")
    entries = {e.path: e for e in index_entries(tmp_git_repo)}
    assert set(entries) == {"a.nix", "run.sh"}
    assert entries["run.sh"].mode == "100755"
    assert read_blob(tmp_git_repo, entries["a.nix"].oid) == b"{ }\n"


def test_read_blobs_streams_many_and_sizes(tmp_git_repo: Path) -> None:
    contents = {f"f{i}.txt": (f"{i}\n" * (i * 500)).encode() for i in range(40)}
    for name, data in contents.items():
        (tmp_git_repo / name).write_bytes(data)
    git(tmp_git_repo, "add", ".")
    entries = index_entries(tmp_git_repo)
    by_oid = {e.oid: e.path for e in entries}
    got = dict(read_blobs(tmp_git_repo, by_oid))
    assert {by_oid[oid]: data for oid, data in got.items()} == contents
    sizes = object_sizes(tmp_git_repo, by_oid)
    assert all(sizes[oid] == len(got[oid]) for oid in by_oid)
    assert list(read_blobs(tmp_git_repo, ["0" * 40])) == []


def test_history_blobs_each_once_with_oldest_commit_and_merges(tmp_git_repo: Path) -> None:
    (tmp_git_repo / "a").write_text("one\n")
    first = commit_all(tmp_git_repo, "first")
    (tmp_git_repo / "b").write_text("one\n")  # same blob again
    commit_all(tmp_git_repo, "second")
    git(tmp_git_repo, "checkout", "-q", "-b", "side", first)
    (tmp_git_repo / "c").write_text("side\n")
    commit_all(tmp_git_repo, "side")
    git(tmp_git_repo, "checkout", "-q", "main")
    git(tmp_git_repo, "merge", "-q", "--no-ff", "-m", "merge", "side")
    blobs = history_blobs(tmp_git_repo)
    oids = [b.oid for b in blobs]
    assert len(oids) == len(set(oids)) == 2
    one = next(b for b in blobs if b.path == "a")
    assert one.commit == first
    assert git(tmp_git_repo, "show", f"{one.commit}:{one.path}") == "one\n"
    assert root_commits(tmp_git_repo) == [first]


def test_history_blobs_once_per_reading_of_their_paths(tmp_git_repo: Path) -> None:
    """With ``reading``, a blob is listed once for each distinct reading of the paths
    it was added at, each with the oldest commit that added it at such a path."""
    (tmp_git_repo / "a.nix").write_text("one\n")
    first = commit_all(tmp_git_repo, "first")
    (tmp_git_repo / "notes.txt").write_text("one\n")
    second = commit_all(tmp_git_repo, "second")
    (tmp_git_repo / "b.nix").write_text("one\n")  # reads as a.nix does
    (tmp_git_repo / "todo.txt").write_text("one\n")  # reads as notes.txt does
    (tmp_git_repo / "c.env").write_text("one\n")
    third = commit_all(tmp_git_repo, "third")

    def extension(path: str) -> str:
        return path.rsplit(".", 1)[-1]

    blobs = history_blobs(tmp_git_repo, reading=extension)
    assert sorted((extension(b.path), b.commit) for b in blobs) == sorted(
        [("nix", first), ("txt", second), ("env", third)]
    )
    assert {b.path for b in blobs} == {"a.nix", "notes.txt", "c.env"}
    assert [(b.path, b.commit) for b in history_blobs(tmp_git_repo)] == [("a.nix", first)]


def test_empty_repository(tmp_git_repo: Path) -> None:
    assert history_blobs(tmp_git_repo) == []
    assert root_commits(tmp_git_repo) == []
    assert index_entries(tmp_git_repo) == []


def test_ls_files_index_blobs_head_dirty(tmp_git_repo: Path) -> None:
    from secretkit.git.objects import head, index_blobs, is_dirty, ls_files

    assert head(tmp_git_repo) is None
    (tmp_git_repo / "a.nix").write_text("one\n")
    sha = commit_all(tmp_git_repo)
    assert head(tmp_git_repo) == sha
    assert not is_dirty(tmp_git_repo)
    (tmp_git_repo / "a.nix").write_text("staged\n")
    git(tmp_git_repo, "add", "a.nix")
    (tmp_git_repo / "a.nix").write_text("work tree\n")
    assert is_dirty(tmp_git_repo)
    assert ls_files(tmp_git_repo) == ["a.nix"]
    assert index_blobs(tmp_git_repo) == {"a.nix": b"staged\n"}


def test_history_leaves_out_secretkit_backup_refs(tmp_git_repo: Path) -> None:
    (tmp_git_repo / "a.txt").write_text("old\n")
    old = commit_all(tmp_git_repo, "old")
    git(tmp_git_repo, "update-ref", "refs/secretkit/backup/1/heads/main", old)
    git(tmp_git_repo, "checkout", "-q", "--orphan", "fresh")
    git(tmp_git_repo, "rm", "-q", "-rf", ".")
    (tmp_git_repo / "b.txt").write_text("new\n")
    commit_all(tmp_git_repo, "new")
    git(tmp_git_repo, "branch", "-D", "main")
    assert sorted(blob.path for blob in history_blobs(tmp_git_repo)) == ["b.txt"]
