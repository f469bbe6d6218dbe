"""atomic.py: single-file atomic writes, the journal, rollback and recovery after a kill."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from secretkit.atomic import Transaction, journal_dir_for, recover, write_atomic


def test_write_atomic_creates_and_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "f.txt"
    write_atomic(target, b"one", 0o600)
    assert target.read_bytes() == b"one"
    assert target.stat().st_mode & 0o777 == 0o600
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert target.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.txt"]


def test_transaction_commits(tmp_git_repo: Path) -> None:
    a = tmp_git_repo / "a.nix"
    a.write_bytes(b"old")
    with Transaction(tmp_git_repo) as txn:
        txn.write(a, b"new")
        txn.write(tmp_git_repo / "secrets" / "h.yaml", b"created")
    assert a.read_bytes() == b"new"
    assert (tmp_git_repo / "secrets" / "h.yaml").read_bytes() == b"created"
    assert not journal_dir_for(tmp_git_repo).exists()


def test_transaction_rolls_back_on_error(tmp_git_repo: Path) -> None:
    a = tmp_git_repo / "a.nix"
    a.write_bytes(b"old")
    os.chmod(a, 0o640)
    gone = tmp_git_repo / "gone.txt"
    gone.write_bytes(b"keep me")
    with pytest.raises(RuntimeError), Transaction(tmp_git_repo) as txn:
        txn.write(a, b"new")
        txn.write(tmp_git_repo / "created.yaml", b"x")
        txn.remove(gone)
        raise RuntimeError("boom")
    assert a.read_bytes() == b"old"
    assert a.stat().st_mode & 0o777 == 0o640
    assert not (tmp_git_repo / "created.yaml").exists()
    assert gone.read_bytes() == b"keep me"
    assert not journal_dir_for(tmp_git_repo).exists()


def test_write_outside_block_is_refused(tmp_path: Path) -> None:
    txn = Transaction(tmp_path)
    with pytest.raises(RuntimeError):
        txn.write(tmp_path / "x", b"")


_SCRIPT = """
import sys
from pathlib import Path
from secretkit.atomic import Transaction
root = Path(sys.argv[1])
with Transaction(root) as txn:
    for i in range(4):
        txn.write(root / f"f{i}.txt", f"new{i}".encode())
"""


@pytest.mark.parametrize("kill_after", [1, 2, 3])
def test_kill_midway_then_recover_restores_everything(tmp_git_repo: Path, kill_after: int) -> None:
    for i in range(4):
        if i % 2 == 0:
            (tmp_git_repo / f"f{i}.txt").write_bytes(f"old{i}".encode())
    env = dict(os.environ, SECRETKIT_TEST_KILL_AFTER_WRITES=str(kill_after))
    proc = subprocess.run([sys.executable, "-c", _SCRIPT, str(tmp_git_repo)], env=env)
    assert proc.returncode == 137
    assert journal_dir_for(tmp_git_repo).exists()
    restored = recover(tmp_git_repo)
    assert len(restored) == kill_after
    for i in range(4):
        path = tmp_git_repo / f"f{i}.txt"
        if i % 2 == 0:
            assert path.read_bytes() == f"old{i}".encode()
        else:
            assert not path.exists()
    assert not journal_dir_for(tmp_git_repo).exists()


def test_next_transaction_recovers_first(tmp_git_repo: Path) -> None:
    f = tmp_git_repo / "f0.txt"
    f.write_bytes(b"old0")
    env = dict(os.environ, SECRETKIT_TEST_KILL_AFTER_WRITES="1")
    subprocess.run([sys.executable, "-c", _SCRIPT, str(tmp_git_repo)], env=env, check=False)
    assert f.read_bytes() == b"new0"
    with Transaction(tmp_git_repo) as txn:
        assert f.read_bytes() == b"old0"
        txn.write(f, b"again")
    assert f.read_bytes() == b"again"


def test_recovery_removes_temp_files_a_killed_write_left(tmp_git_repo: Path) -> None:
    from secretkit import repolock

    secrets = tmp_git_repo / "secrets"
    with Transaction(tmp_git_repo) as txn:  # notes secrets/ as a directory written to
        txn.write(secrets / "h.yaml", b"data")
    stray = [secrets / ".h.yaml.ab12cd34.tmp", tmp_git_repo / ".sops.yaml.zz_9yx8w.tmp"]
    for path in stray:
        path.write_bytes(b"half written")
    keep = [secrets / ".h.yaml.tmp", secrets / "notes.ab12cd34.tmp", tmp_git_repo / "x.tmp"]
    for path in keep:
        path.write_bytes(b"the user's")
    repolock.release_all()
    recover(tmp_git_repo)
    assert not any(p.exists() for p in stray)
    assert all(p.read_bytes() == b"the user's" for p in keep)


def test_a_repository_moved_after_a_kill_is_rolled_back_where_it_is_now(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    """The journal held absolute paths: after `mv repo moved`, the next run restored
    files at the old place (a copy there lost a file) and left the moved one
    half-written."""
    import shutil

    (tmp_git_repo / "f0.txt").write_bytes(b"old0")
    env = dict(os.environ, SECRETKIT_TEST_KILL_AFTER_WRITES="2")
    proc = subprocess.run([sys.executable, "-c", _SCRIPT, str(tmp_git_repo)], env=env)
    assert proc.returncode == 137
    moved = tmp_path / "moved"
    shutil.move(str(tmp_git_repo), moved)
    tmp_git_repo.mkdir()
    (tmp_git_repo / "f1.txt").write_bytes(b"someone else's file")
    restored = recover(moved)
    assert sorted(p.name for p in restored) == ["f0.txt", "f1.txt"]
    assert (moved / "f0.txt").read_bytes() == b"old0"
    assert not (moved / "f1.txt").exists()
    assert (tmp_git_repo / "f1.txt").read_bytes() == b"someone else's file"
    assert not (tmp_git_repo / "f0.txt").exists()


def test_a_file_changed_since_the_kill_is_never_overwritten(tmp_git_repo: Path) -> None:
    """helper-128: a rollback put back what a killed run had replaced, over what the user
    had made of the files since.  A file that holds neither its old bytes nor what the
    run wrote there changed since: nothing is rolled back, and the journal stays."""
    from secretkit.atomic import ChangedSince, pending

    (tmp_git_repo / "f0.txt").write_bytes(b"old0")
    env = dict(os.environ, SECRETKIT_TEST_KILL_AFTER_WRITES="2")
    proc = subprocess.run([sys.executable, "-c", _SCRIPT, str(tmp_git_repo)], env=env)
    assert proc.returncode == 137
    (tmp_git_repo / "f1.txt").write_bytes(b"edited since")
    with pytest.raises(ChangedSince, match=r"f1\.txt changed since"):
        recover(tmp_git_repo)
    assert (tmp_git_repo / "f0.txt").read_bytes() == b"new0"
    assert (tmp_git_repo / "f1.txt").read_bytes() == b"edited since"
    left = pending(tmp_git_repo)
    assert left is not None and left["files"] == ["f0.txt", "f1.txt"]
    # put back as it was before the run (or as the run wrote it): rolled back as ever
    (tmp_git_repo / "f1.txt").unlink()
    assert len(recover(tmp_git_repo)) == 2
    assert (tmp_git_repo / "f0.txt").read_bytes() == b"old0"
    assert pending(tmp_git_repo) is None


def test_a_failing_run_undoes_its_own_writes_whatever_they_hold(tmp_git_repo: Path) -> None:
    a = tmp_git_repo / "a.txt"
    a.write_bytes(b"old")
    with pytest.raises(RuntimeError), Transaction(tmp_git_repo) as txn:
        txn.write(a, b"new")
        a.write_bytes(b"half")  # (what a failing write may leave: its own)
        raise RuntimeError("boom")
    assert a.read_bytes() == b"old"


def test_a_journal_without_a_change_is_nothing_pending(tmp_git_repo: Path) -> None:
    """A run that committed (its manifest goes first) or changed nothing yet leaves no
    run to finish: check and the hook say nothing of it (CI: a SIGHUP inside commit)."""
    from secretkit.atomic import pending

    journal = journal_dir_for(tmp_git_repo)
    journal.mkdir(parents=True)
    (journal / "backup-1").write_bytes(b"old")
    assert pending(tmp_git_repo) is None
    (journal / "manifest.jsonl").write_text("")
    assert pending(tmp_git_repo) is None
