"""migrate killed after every journaled write: the next run rolls back and finishes,
and nothing is lost (SECRETKIT_TEST_KILL_AFTER_WRITES, see secretkit/atomic.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from secretkit.atomic import journal_dir_for
from tests.commands.test_cmd_migrate import host_secrets, run, snapshot
from tests.conftest import GIT_ENV, git
from tests.support.nixfind import EXPECTED_ACCESS, Homelab, make_homelab


@pytest.fixture
def pristine(tmp_git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Homelab:
    lab = make_homelab(tmp_git_repo, tmp_path / "keys")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(lab.admin_key))
    return lab


def _copy(lab: Homelab, dest: Path) -> Homelab:
    shutil.copytree(lab.repo, dest, symlinks=True)
    return Homelab(dest, lab.admin_key, lab.host_keys, lab.values)


def _assert_done(lab: Homelab) -> None:
    for host, expected in EXPECTED_ACCESS.items():
        assert host_secrets(lab, host) == expected, host
    for path, data in snapshot(lab.repo).items():
        for value in lab.values.values():
            assert value.encode() not in data, path
    assert not journal_dir_for(lab.repo).exists()


# migrate's journaled writes in order: every host's sops file, then the Nix files.
WRITES = (
    *(f"secrets/{host}.yaml" for host in sorted(EXPECTED_ACCESS)),
    "flake.nix",
    "hosts/immich/default.nix",
    "hosts/observer/monitoring.nix",
    "hosts/offsite-vm/default.nix",
    "hosts/stian-dell-nixos/default.nix",
    "hosts/syncthing/default.nix",
    "modules/common.nix",
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Homelab:
    """One homelab for every kill point (each test works on its own copy), checked
    against an uninterrupted migrate, which writes exactly WRITES.  Module-scoped, so
    with its own HOME and git config (the per-test isolation is not set up yet)."""
    base = tmp_path_factory.mktemp("kill-template")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HOME", str(base / "home"))
        env.setenv("GIT_CONFIG_GLOBAL", str(base / "home" / ".gitconfig"))
        for key, value in GIT_ENV.items():
            env.setenv(key, value)
        repo = base / "repo"
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        template = make_homelab(repo, base / "keys")
        reference = _copy(template, base / "reference")
        env.setenv("SOPS_AGE_KEY_FILE", str(template.admin_key))
        proc = run(reference.repo, "migrate", "--yes")
    assert proc.returncode == 0, proc.stderr
    original, after = snapshot(template.repo), snapshot(reference.repo)
    assert sorted(p for p in after if original.get(p) != after[p]) == sorted(WRITES)
    assert len(WRITES) == len(EXPECTED_ACCESS) + 7  # 8 host files, then 7 Nix files
    return template


@pytest.mark.slow
@pytest.mark.parametrize(
    "kill_after", range(1, len(WRITES) + 1), ids=lambda n: f"{n:02}-{WRITES[n - 1]}"
)
def test_kill_after_every_write_then_rerun(
    template: Homelab,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kill_after: int,
) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(template.admin_key))
    original = snapshot(template.repo)
    lab = _copy(template, tmp_path / "repo")
    killed = run(
        lab.repo, "migrate", "--yes", env={"SECRETKIT_TEST_KILL_AFTER_WRITES": str(kill_after)}
    )
    assert killed.returncode == 137, (kill_after, killed.stderr)
    assert journal_dir_for(lab.repo).exists()
    now = snapshot(lab.repo)
    # the writes up to the kill point landed, in this order, and nothing else
    assert {p for p in now if original.get(p) != now[p]} == set(WRITES[:kill_after])
    # The next run first rolls back to exactly the state before the killed run ...
    dry = run(lab.repo, "migrate", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert snapshot(lab.repo) == original, kill_after
    # ... and then does the whole job.
    done = run(lab.repo, "migrate", "--yes")
    assert done.returncode == 0, (kill_after, done.stderr)
    _assert_done(lab)


@pytest.mark.slow
def test_kill_then_rerun_directly(pristine: Homelab) -> None:
    killed = run(pristine.repo, "migrate", "--yes", env={"SECRETKIT_TEST_KILL_AFTER_WRITES": "9"})
    assert killed.returncode == 137
    done = run(pristine.repo, "migrate", "--yes")
    assert done.returncode == 0, done.stderr
    _assert_done(pristine)
    again = run(pristine.repo, "migrate", "--yes")
    assert "nothing to migrate" in again.stdout
