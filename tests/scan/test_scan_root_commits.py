"""The root commits behind the fingerprint key, remembered in the git directory: the
answer is always the full walk's (``git rev-list --max-parents=0 HEAD``), through new
commits, a merged unrelated history, a rewritten history and a damaged file."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.git.objects import root_commits as full_walk
from secretkit.scan import root_commits as cache
from secretkit.scan.allowlist import load
from secretkit.scan.one_file import scan_bytes
from tests.conftest import commit_all, git
from tests.support import fake


def _file(repo: Path) -> Path:
    return repo / ".git" / "secretkit" / "root-commits"


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every walk counts as slow, so the small test repositories keep the file."""
    monkeypatch.setattr(cache, "SLOW_SECONDS", 0.0)


def test_the_remembered_roots_follow_new_commits_merges_and_rewrites(
    tmp_git_repo: Path, slow: None
) -> None:
    repo = tmp_git_repo
    (repo / "a.txt").write_text("a\n")
    first = commit_all(repo, "root")
    assert cache.root_commits(repo) == full_walk(repo) == [first]
    saved = _file(repo).read_text()
    assert first in saved and (_file(repo).stat().st_mode & 0o777) == 0o600

    for i in range(3):  # new commits on top: the file is read, not rewritten
        (repo / "a.txt").write_text(f"a{i}\n")
        commit_all(repo, f"c{i}")
        assert cache.root_commits(repo) == full_walk(repo) == [first]
    assert _file(repo).read_text() == saved

    # an unrelated history merged in brings a second root
    git(repo, "checkout", "-q", "--orphan", "other")
    git(repo, "rm", "-q", "-r", "--cached", ".")
    (repo / "a.txt").unlink()
    (repo / "b.txt").write_text("b\n")
    second = commit_all(repo, "other root")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-edit", "--allow-unrelated-histories", "other")
    assert cache.root_commits(repo) == full_walk(repo) == sorted([first, second])

    # history rewritten: the remembered commit is no ancestor of HEAD any more
    git(repo, "checkout", "-q", "--orphan", "fresh")
    fresh = commit_all(repo, "fresh root")
    git(repo, "branch", "-D", "main", "other")
    assert cache.root_commits(repo) == full_walk(repo) == [fresh]

    _file(repo).write_text("{not json")
    assert cache.root_commits(repo) == full_walk(repo) == [fresh]
    _file(repo).write_text('{"commit": "--output=x", "roots": ["--all"]}')
    assert cache.root_commits(repo) == full_walk(repo) == [fresh]


def test_fingerprints_are_the_same_with_the_remembered_roots(
    tmp_git_repo: Path, slow: None
) -> None:
    repo = tmp_git_repo
    (repo / "a.txt").write_text("a\n")
    commit_all(repo, "root")
    value = fake.password("roots")
    data = f'{{ services.foo.password = "{value}"; }}\n'.encode()
    (found,), _ = scan_bytes("host.nix", data, allow=load(repo))
    without_file = found.fingerprint
    assert _file(repo).is_file()
    (again,), _ = scan_bytes("host.nix", data, allow=load(repo))
    assert again.fingerprint == without_file


def test_a_quick_walk_writes_nothing(tmp_git_repo: Path) -> None:
    (tmp_git_repo / "a.txt").write_text("a\n")
    commit_all(tmp_git_repo, "root")
    assert cache.root_commits(tmp_git_repo) == full_walk(tmp_git_repo)
    assert not _file(tmp_git_repo).exists()


def test_a_shallow_clone_is_always_walked(tmp_git_repo: Path, tmp_path: Path, slow: None) -> None:
    for i in range(3):
        (tmp_git_repo / "a.txt").write_text(f"a{i}\n")
        commit_all(tmp_git_repo, f"c{i}")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{tmp_git_repo}", str(clone))
    assert cache.root_commits(clone) == full_walk(clone)
    assert not _file(clone).exists()
