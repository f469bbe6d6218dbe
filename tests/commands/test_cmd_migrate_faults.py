"""migrate killed after every journaled write: the next run rolls back and finishes,
and nothing is lost (SECRETKIT_TEST_KILL_AFTER_WRITES, see secretkit/atomic.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from secretkit.atomic import journal_dir_for
from tests.commands.test_cmd_migrate import host_secrets, run, snapshot
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


@pytest.mark.slow
def test_kill_after_every_write_then_rerun(pristine: Homelab, tmp_path: Path) -> None:
    original = snapshot(pristine.repo)
    reference = _copy(pristine, tmp_path / "reference")
    proc = run(reference.repo, "migrate", "--yes")
    assert proc.returncode == 0, proc.stderr
    after = snapshot(reference.repo)
    writes = sum(1 for p in after if original.get(p) != after[p])
    assert writes == len(EXPECTED_ACCESS) + 7  # 8 host files, then 7 Nix files

    for kill_after in range(1, writes + 1):
        lab = _copy(pristine, tmp_path / f"kill-{kill_after}")
        killed = run(
            lab.repo, "migrate", "--yes", env={"SECRETKIT_TEST_KILL_AFTER_WRITES": str(kill_after)}
        )
        assert killed.returncode == 137, (kill_after, killed.stderr)
        assert journal_dir_for(lab.repo).exists()
        # The next run first rolls back to exactly the state before the killed run ...
        dry = run(lab.repo, "migrate", "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert snapshot(lab.repo) == original, kill_after
        # ... and then does the whole job.
        done = run(lab.repo, "migrate", "--yes")
        assert done.returncode == 0, (kill_after, done.stderr)
        _assert_done(lab)
        shutil.rmtree(lab.repo)


def test_kill_then_rerun_directly(pristine: Homelab) -> None:
    killed = run(pristine.repo, "migrate", "--yes", env={"SECRETKIT_TEST_KILL_AFTER_WRITES": "9"})
    assert killed.returncode == 137
    done = run(pristine.repo, "migrate", "--yes")
    assert done.returncode == 0, done.stderr
    _assert_done(pristine)
    again = run(pristine.repo, "migrate", "--yes")
    assert "nothing to migrate" in again.stdout
