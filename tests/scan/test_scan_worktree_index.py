"""A tracked file a sparse checkout keeps out of the work tree is still in what a
commit or a push carries: the tree scan reads it from the index instead of passing
over it and saying "no secrets found"."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.scan.worktree import scan_tree
from tests.conftest import commit_all, git
from tests.support import fake


def _repo(repo: Path) -> str:
    token = fake.github_token("sparse")
    (repo / "a").mkdir()
    (repo / "b").mkdir()
    (repo / "a" / "x.txt").write_text("hello\n")
    (repo / "b" / "app.env").write_text(f"GITHUB_TOKEN={token}\n")
    commit_all(repo)
    return token


@pytest.mark.parametrize("use_cache", [False, True])
def test_a_file_outside_a_sparse_checkout_is_scanned_from_the_index(
    tmp_git_repo: Path, use_cache: bool
) -> None:
    token = _repo(tmp_git_repo)
    git(tmp_git_repo, "sparse-checkout", "set", "a")
    assert not (tmp_git_repo / "b" / "app.env").exists()
    report = scan_tree(tmp_git_repo, use_cache=use_cache)
    (finding,) = report.findings
    assert finding.path == "b/app.env" and finding.secret.reveal() == token
    assert report.stats["files"] == 2


def test_a_file_deleted_in_the_work_tree_is_left_out_as_git_add_would(
    tmp_git_repo: Path,
) -> None:
    _repo(tmp_git_repo)
    (tmp_git_repo / "b" / "app.env").unlink()
    assert scan_tree(tmp_git_repo).findings == []  # (the history still holds it)
