"""find_root: where a command works (the work-tree root, cwd outside git, never a
bare repository's own files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.errors import UserError
from secretkit.git.repo import find_root
from tests.conftest import git


def test_the_root_of_the_work_tree_from_a_subdirectory(tmp_git_repo: Path) -> None:
    (tmp_git_repo / "hosts/web").mkdir(parents=True)
    assert find_root(tmp_git_repo / "hosts/web").resolve() == tmp_git_repo.resolve()


def test_outside_git_it_is_the_directory_itself(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    assert find_root(tmp_path / "plain") == tmp_path / "plain"


def test_a_bare_repository_is_refused(tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    with pytest.raises(UserError) as info:
        find_root(bare)
    assert "is a git directory with no work tree" in info.value.message
    assert info.value.hint is not None and "git clone" in info.value.hint
