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
    assert info.value.hint is not None and "git clone" in info.value.hint  # (no commit)
    import subprocess

    subprocess.run(info.value.hint.split(": ", 1)[1], shell=True, check=True, capture_output=True)
    assert (tmp_path / "bare.git-worktree" / ".git").is_dir()


def test_a_bare_repository_names_a_way_that_reads_its_whole_history(tmp_git_repo: Path) -> None:
    """scan --history and check said "not inside a git repository" in a bare mirror;
    the way out they print (a worktree of it) reads every ref of it."""
    import shlex
    import subprocess

    from secretkit.git import require_repo
    from tests.conftest import commit_all
    from tests.support import fake

    (tmp_git_repo / "a.py").write_text(f'token = "{fake.github_token("bare")}"\n')
    commit_all(tmp_git_repo)
    git(tmp_git_repo, "rm", "-q", "a.py")
    commit_all(tmp_git_repo)
    bare = tmp_git_repo.parent / "mirror.git"
    git(tmp_git_repo.parent, "clone", "-q", "--mirror", str(tmp_git_repo), str(bare))
    with pytest.raises(UserError) as info:
        require_repo(bare)
    assert "is a git directory with no work tree" in info.value.message
    fix = info.value.hint.split(": ", 1)[1]
    subprocess.run(fix, shell=True, check=True, capture_output=True)
    there = Path(shlex.split(fix)[-1])
    assert require_repo(there).resolve() == there.resolve()
    from secretkit.scan.history import scan_history

    report = scan_history(there, use_cache=False)
    assert [(f.path, f.rule) for f in report.findings] == [("a.py", "github-token")]


def test_scan_in_a_bare_repository_is_refused_not_clean(tmp_git_repo: Path) -> None:
    """`scan` read a mirror's own files (objects, refs) and said "no secrets found"."""
    import subprocess
    import sys

    from tests.conftest import ROOT, commit_all
    from tests.support import fake

    (tmp_git_repo / "a.py").write_text(f'token = "{fake.github_token("bare-scan")}"\n')
    commit_all(tmp_git_repo)
    bare = tmp_git_repo.parent / "m.git"
    git(tmp_git_repo.parent, "clone", "-q", "--mirror", str(tmp_git_repo), str(bare))
    proc = subprocess.run(
        [sys.executable, "-m", "secretkit", "scan"],
        cwd=bare,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 3, proc.stdout
    assert "is a git directory with no work tree" in proc.stderr
    assert "no secrets found" not in proc.stdout
