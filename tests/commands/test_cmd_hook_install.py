"""`secretkit hook install`, the plain-git shim and the pre-commit manifest.

Real git repositories, real `git commit` runs through the installed hook, and the
real pre-commit framework's own `install` for the refusal case.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from secretkit.git.hooks import CHAINED_SUFFIX, SHIM
from tests.conftest import ROOT, git, need_tool
from tests.support.fake import secretkit_bin


def run_cli(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "secretkit", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=full_env,
    )


@pytest.fixture
def path_with_secretkit(tmp_path: Path) -> str:
    bin_dir = tmp_path / "bin"
    secretkit_bin(bin_dir)
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


def commit(repo: Path, path_env: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "commit", "-q", "-m", "msg", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env=dict(os.environ, PATH=path_env),
    )


def head_count(repo: Path) -> int:
    proc = subprocess.run(
        ["git", "rev-list", "--count", "HEAD"], cwd=repo, capture_output=True, text=True
    )
    return int(proc.stdout.strip() or 0) if proc.returncode == 0 else 0


@pytest.mark.parametrize("name", ["pre-commit", "pre-merge-commit"])
def test_repository_shim_is_the_installed_text(name: str) -> None:
    from secretkit.git.hooks import SHIMS

    shim = ROOT / "hooks" / name
    assert shim.read_text() == SHIMS[name]
    assert shim.stat().st_mode & stat.S_IXUSR
    subprocess.run(["sh", "-n", str(shim)], check=True)
    if shutil.which("dash"):
        subprocess.run(["dash", "-n", str(shim)], check=True)


def test_a_merge_that_brings_a_secret_is_blocked(tmp_git_repo: Path, tmp_path: Path) -> None:
    """git runs pre-merge-commit, not pre-commit, for a merge without conflicts."""
    from tests.conftest import commit_all
    from tests.support import fake

    bin_dir = tmp_path / "bin"
    fake.secretkit_bin(bin_dir)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    (tmp_git_repo / "README.md").write_text("hi\n")
    commit_all(tmp_git_repo, "init")
    run = subprocess.run(
        [str(bin_dir / "secretkit"), "hook", "install"], cwd=tmp_git_repo, env=env, check=True
    )
    assert run.returncode == 0
    git(tmp_git_repo, "checkout", "-q", "-b", "mate")
    (tmp_git_repo / ".env").write_text(f"TOKEN={fake.github_token('merged')}\n")
    git(tmp_git_repo, "add", ".env")
    git(tmp_git_repo, "commit", "-q", "--no-verify", "-m", "mate")
    git(tmp_git_repo, "checkout", "-q", "main")
    (tmp_git_repo / "other").write_text("x\n")
    git(tmp_git_repo, "add", "other")
    git(tmp_git_repo, "commit", "-q", "--no-verify", "-m", "other")
    merge = subprocess.run(
        ["git", "merge", "--no-edit", "mate"], cwd=tmp_git_repo, env=env, capture_output=True
    )
    assert merge.returncode != 0, merge.stdout
    assert b"commit blocked" in merge.stdout + merge.stderr


def test_pre_commit_manifest_is_valid_for_the_framework() -> None:
    from pre_commit.clientlib import load_manifest

    (hook,) = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    assert hook["id"] == "secretkit"
    assert hook["entry"].split()[:2] == ["secretkit", "hook"]
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is True
    # binary sops files and their decrypted copies must reach the hook
    assert hook["types"] == ["file"]


def test_install_in_a_fresh_repository(tmp_git_repo: Path) -> None:
    proc = run_cli(tmp_git_repo, "hook", "install")
    assert proc.returncode == 0, proc.stderr
    hook = tmp_git_repo / ".git" / "hooks" / "pre-commit"
    assert hook.read_text() == SHIM
    assert stat.S_IMODE(hook.stat().st_mode) == 0o755
    assert "installed" in proc.stdout
    assert not (hook.parent / ("pre-commit" + CHAINED_SUFFIX)).exists()


def test_install_twice_is_a_no_op_and_refreshes_an_old_shim(tmp_git_repo: Path) -> None:
    assert run_cli(tmp_git_repo, "hook", "install").returncode == 0
    again = run_cli(tmp_git_repo, "hook", "install")
    assert again.returncode == 0
    assert "unchanged" in again.stdout
    hook = tmp_git_repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(SHIM.replace("exec ", "exec  "))  # an older version of our shim
    third = run_cli(tmp_git_repo, "hook", "install")
    assert "updated" in third.stdout
    assert hook.read_text() == SHIM
    assert not (hook.parent / ("pre-commit" + CHAINED_SUFFIX)).exists()


def test_existing_hook_is_chained_and_its_failure_blocks(
    tmp_git_repo: Path, path_with_secretkit: str
) -> None:
    hooks = tmp_git_repo / ".git" / "hooks"
    ran = tmp_git_repo.parent / "old-hook-ran"
    old = hooks / "pre-commit"
    old.write_text(f'#!/bin/sh\necho ran >> "{ran}"\nexit "${{OLD_HOOK_EXIT:-0}}"\n')
    old.chmod(0o755)
    original = old.read_bytes()

    proc = run_cli(tmp_git_repo, "hook", "install")
    assert proc.returncode == 0, proc.stderr
    chained = hooks / ("pre-commit" + CHAINED_SUFFIX)
    assert chained.read_bytes() == original
    assert old.read_text() == SHIM

    assert commit(tmp_git_repo, path_with_secretkit, "--allow-empty").returncode == 0
    assert ran.read_text() == "ran\n"
    assert head_count(tmp_git_repo) == 1

    failing = subprocess.run(
        ["git", "commit", "-q", "--allow-empty", "-m", "second"],
        cwd=tmp_git_repo,
        capture_output=True,
        text=True,
        env=dict(os.environ, PATH=path_with_secretkit, OLD_HOOK_EXIT="7"),
    )
    assert failing.returncode != 0
    assert ran.read_text() == "ran\nran\n"
    assert head_count(tmp_git_repo) == 1

    # installing again keeps the chain as it is
    assert "unchanged" in run_cli(tmp_git_repo, "hook", "install").stdout
    assert chained.read_bytes() == original


def test_refuses_when_the_chained_slot_is_taken(tmp_git_repo: Path) -> None:
    hooks = tmp_git_repo / ".git" / "hooks"
    (hooks / "pre-commit").write_text("#!/bin/sh\nexit 0\n")
    (hooks / ("pre-commit" + CHAINED_SUFFIX)).write_text("#!/bin/sh\nexit 1\n")
    proc = run_cli(tmp_git_repo, "hook", "install")
    assert proc.returncode == 3
    assert "not overwriting" in proc.stderr
    assert (hooks / "pre-commit").read_text() == "#!/bin/sh\nexit 0\n"
    assert (hooks / ("pre-commit" + CHAINED_SUFFIX)).read_text() == "#!/bin/sh\nexit 1\n"


def test_refuses_the_pre_commit_frameworks_hook_and_shows_the_snippet(tmp_git_repo: Path) -> None:
    need_tool("pre-commit")
    subprocess.run(["pre-commit", "install"], cwd=tmp_git_repo, check=True, capture_output=True)
    hook = tmp_git_repo / ".git" / "hooks" / "pre-commit"
    before = hook.read_bytes()
    proc = run_cli(tmp_git_repo, "hook", "install")
    assert proc.returncode == 3
    assert "pre-commit framework" in proc.stderr
    assert "hint:" in proc.stderr
    assert "entry: secretkit hook --" in proc.stderr
    assert "repo: local" in proc.stderr
    assert hook.read_bytes() == before
    assert not (hook.parent / ("pre-commit" + CHAINED_SUFFIX)).exists()

    # the snippet in place (what the hint says): nothing to install, and it says so
    from secretkit.git.hooks import PRE_COMMIT_SNIPPET

    (tmp_git_repo / ".pre-commit-config.yaml").write_text(f"repos:\n{PRE_COMMIT_SNIPPET}\n")
    proc = run_cli(tmp_git_repo, "hook", "install")
    assert proc.returncode == 0, proc.stderr
    assert ".pre-commit-config.yaml runs secretkit already: nothing to install" in proc.stdout
    assert hook.read_bytes() == before


@pytest.mark.parametrize("absolute", [False, True], ids=["relative", "absolute"])
def test_respects_core_hooks_path(
    tmp_git_repo: Path, path_with_secretkit: str, absolute: bool
) -> None:
    target = tmp_git_repo / ".githooks"
    git(tmp_git_repo, "config", "core.hooksPath", str(target) if absolute else ".githooks")
    proc = run_cli(tmp_git_repo, "hook", "install")
    assert proc.returncode == 0, proc.stderr
    assert (target / "pre-commit").read_text() == SHIM
    assert not (tmp_git_repo / ".git" / "hooks" / "pre-commit").exists()
    # git really runs it from there: without secretkit on PATH the shim blocks
    bare_path = os.pathsep.join(
        p for p in os.environ["PATH"].split(os.pathsep) if not (Path(p) / "secretkit").exists()
    )
    blocked = commit(tmp_git_repo, bare_path, "--allow-empty")
    assert blocked.returncode != 0
    assert "secretkit hook: 'secretkit' not found" in blocked.stderr
    assert commit(tmp_git_repo, path_with_secretkit, "--allow-empty").returncode == 0


def test_install_from_a_subdirectory_and_outside_a_repository(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    sub = tmp_git_repo / "hosts" / "observer"
    sub.mkdir(parents=True)
    assert run_cli(sub, "hook", "install").returncode == 0
    assert (tmp_git_repo / ".git" / "hooks" / "pre-commit").read_text() == SHIM
    outside = tmp_path / "plain"
    outside.mkdir()
    proc = run_cli(outside, "hook", "install")
    assert proc.returncode == 3
    assert "not inside a git repository" in proc.stderr


def test_install_from_a_linked_worktree_uses_the_shared_hooks(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    (tmp_git_repo / "a").write_text("a\n")
    git(tmp_git_repo, "add", "a")
    git(tmp_git_repo, "commit", "-q", "-m", "a")
    linked = tmp_path / "linked"
    git(tmp_git_repo, "worktree", "add", "-q", str(linked))
    proc = run_cli(linked, "hook", "install")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_git_repo / ".git" / "hooks" / "pre-commit").read_text() == SHIM


def test_an_unwritable_hooks_path_is_a_user_error(tmp_git_repo: Path) -> None:
    git(tmp_git_repo, "config", "core.hooksPath", "/dev/null")
    proc = run_cli(tmp_git_repo, "hook", "install")
    assert proc.returncode == 3
    assert "cannot install the hook in /dev/null" in proc.stderr
    assert "core.hooksPath" in proc.stderr


def test_install_warns_when_the_hook_would_not_find_secretkit(
    tmp_git_repo: Path, tmp_path: Path, path_with_secretkit: str
) -> None:
    """Installed from a venv not on PATH, the hook blocks every commit: say so at
    install time, with a fix that works (here: the directory of the secretkit that
    ran, put on PATH)."""
    venv_bin = Path(sys.executable).parent
    script = venv_bin / "secretkit"
    bare = "/usr/bin:/bin"  # git and sh, no secretkit
    proc = subprocess.run(
        [str(script) if script.exists() else sys.executable, *([] if script.exists() else
         ["-m", "secretkit"]), "hook", "install"],
        cwd=tmp_git_repo, capture_output=True, text=True,
        env=dict(os.environ, PATH=bare, PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "warning: 'secretkit' is not on PATH here" in proc.stdout
    if script.exists():
        assert f'export PATH="{venv_bin}:$PATH"' in proc.stdout
        git(tmp_git_repo, "commit", "-q", "--allow-empty", "-m", "base")
        (tmp_git_repo / "a.txt").write_text("hello\n")
        git(tmp_git_repo, "add", "a.txt")
        assert commit(tmp_git_repo, bare).returncode != 0  # blocked, as warned
        assert commit(tmp_git_repo, f"{venv_bin}:{bare}").returncode == 0  # the fix works
    # with secretkit on PATH, no warning
    quiet = run_cli(tmp_git_repo, "hook", "install", env={"PATH": path_with_secretkit})
    assert "warning" not in quiet.stdout
