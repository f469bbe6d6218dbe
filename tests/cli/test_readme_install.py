"""The README's two ways of installing secretkit from source, done for real.

* the quick-start line in a copy of the project, with no virtualenv active and a
  fresh HOME: it must create its own venv, install secretkit there (from the
  local project; dependencies from PyPI) and run the demo;
* the pre-commit snippet with `repo:` and `rev:` pointing at a local clone: the real
  pre-commit framework installs the hook from `.pre-commit-hooks.yaml` and it
  blocks a commit that adds a secret.

Both install from PyPI into fresh virtualenvs, hence slow; pip's cache of the user
running the tests is shared to keep them at tens of seconds.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_readme import QUICK_START, README
from tests.conftest import GIT_ENV, commit_all, git, need_tool
from tests.support import fake
from tests.test_flake import source_copy

PIP_CACHE = os.environ.get("PIP_CACHE_DIR") or os.path.expanduser("~/.cache/pip")


def clean_env(home: Path) -> dict[str, str]:
    """The environment of a fresh login: no virtualenv on PATH, no PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    active = os.environ.get("VIRTUAL_ENV") or sys.prefix
    env["PATH"] = os.pathsep.join(
        p for p in os.environ["PATH"].split(os.pathsep) if not p.startswith(active)
    )
    env["HOME"] = str(home)
    env["PIP_CACHE_DIR"] = PIP_CACHE
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.mark.slow
def test_the_quick_start_line_works_without_an_active_virtualenv(tmp_path: Path) -> None:
    project = source_copy(tmp_path)
    assert not (project / ".venv").exists()
    env = clean_env(Path(os.environ["HOME"]))
    proc = subprocess.run(
        ["bash", "-c", QUICK_START],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "scan: clean" in proc.stdout
    installed = project / ".venv" / "bin" / "secretkit"
    assert installed.is_file()
    version = subprocess.run([str(installed), "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("secretkit ")


def readme_pre_commit_snippet() -> str:
    section = README[README.index("### The pre-commit framework") :]
    snippets = re.findall(r"```yaml\n(.*?)```", section, re.S)
    (remote,) = [s for s in snippets if "rev:" in s]
    return remote


@pytest.mark.slow
def test_the_hook_installs_from_a_local_clone_with_the_real_pre_commit(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    pre_commit = need_tool("pre-commit")
    clone = source_copy(tmp_path)
    git(clone, "init", "-q", "-b", "main")
    rev = commit_all(clone, "secretkit as a pre-commit hook repository")

    snippet = readme_pre_commit_snippet()
    config = snippet.replace("/path/to/secretkit", str(clone)).replace("COMMIT", rev)
    assert f"rev: {rev}" in config
    repo = tmp_git_repo
    (repo / ".pre-commit-config.yaml").write_text(config)
    git(repo, "add", ".pre-commit-config.yaml")
    env = clean_env(Path(os.environ["HOME"]))
    env.update(GIT_ENV)
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    # pre-commit itself may live in the test virtualenv: keep it reachable
    env["PATH"] = os.path.dirname(pre_commit) + os.pathsep + env["PATH"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args), cwd=repo, env=env, capture_output=True, text=True, timeout=900
        )

    assert run(pre_commit, "install").returncode == 0
    value = fake.passphrase("pre-commit-clone")
    module = repo / "backup.nix"
    module.write_text(f'{{ services.borgbackup.jobs.b.encryption.passphrase = "{value}"; }}\n')
    git(repo, "add", "backup.nix")
    blocked = run("git", "commit", "-q", "-m", "add backup")
    assert blocked.returncode != 0, blocked.stdout + blocked.stderr
    output = blocked.stdout + blocked.stderr
    assert "secretkit" in output and "Failed" in output
    assert "backup.nix" in output
    assert value not in output

    module.write_text("{ services.borgbackup.jobs = { }; }\n")
    git(repo, "add", "backup.nix")
    passed = run("git", "commit", "-q", "-m", "add backup")
    assert passed.returncode == 0, passed.stdout + passed.stderr
