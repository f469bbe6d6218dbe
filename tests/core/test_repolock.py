"""repolock.py: one lock per repository, taken by recover(), released on any exit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from secretkit import repolock
from secretkit.atomic import Transaction, journal_dir_for, recover
from secretkit.errors import UserError
from tests.conftest import ROOT

HOLD = """
import sys, time
from pathlib import Path
from secretkit.atomic import recover
recover(Path(sys.argv[1]))
print("locked", flush=True)
time.sleep(60)
"""


def _holder(repo: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(repo)], env=env, stdout=subprocess.PIPE
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"locked\n"
    proc.stdout.close()
    return proc


def test_lock_lives_in_the_git_dir_and_records_the_holder(tmp_git_repo: Path) -> None:
    recover(tmp_git_repo)
    path = tmp_git_repo / ".git" / "secretkit" / "lock"
    assert repolock.is_held(tmp_git_repo)
    assert json.loads(path.read_text())["pid"] == os.getpid()
    assert path.stat().st_mode & 0o777 == 0o600
    recover(tmp_git_repo)  # re-entrant
    repolock.release_all()
    assert not repolock.is_held(tmp_git_repo)
    assert path.read_text() == ""


def test_a_second_process_waits_then_stops_with_the_holder_named(
    tmp_git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = _holder(tmp_git_repo)
    try:
        monkeypatch.setenv("SECRETKIT_LOCK_WAIT", "0.3")
        started = time.monotonic()
        with pytest.raises(UserError) as info:
            recover(tmp_git_repo)
        assert time.monotonic() - started >= 0.3
        assert f"the repository is locked by pid {holder.pid}" in info.value.one_line()
        assert "wait for that command to finish" in info.value.one_line()
    finally:
        holder.kill()
        holder.wait()
    # SIGKILL leaves the lock file behind, but not the lock: the next run proceeds.
    assert (tmp_git_repo / ".git" / "secretkit" / "lock").exists()
    recover(tmp_git_repo)
    assert repolock.is_held(tmp_git_repo)


def test_a_waiting_process_gets_the_lock_when_the_holder_ends(
    tmp_git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = _holder(tmp_git_repo)
    monkeypatch.setenv("SECRETKIT_LOCK_WAIT", "20")
    started = time.monotonic()
    os.kill(holder.pid, signal.SIGTERM)  # default action: dies without cleanup code
    recover(tmp_git_repo)
    holder.wait()
    assert time.monotonic() - started < 10


def test_a_live_journal_of_another_process_is_never_rolled_back(tmp_git_repo: Path) -> None:
    # A writer that does not take the lock (an older secretkit): its journal names it.
    a = tmp_git_repo / "a.nix"
    a.write_bytes(b"old")
    with Transaction(tmp_git_repo) as txn:
        txn.write(a, b"new")
        journal = journal_dir_for(tmp_git_repo)
        owner = journal / "owner.json"
        sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        try:
            record = {"pid": sleeper.pid, "start": repolock.process_start(sleeper.pid)}
            owner.write_text(json.dumps(record))
            with pytest.raises(UserError, match=f"another secretkit process \\(pid {sleeper.pid}"):
                recover(tmp_git_repo)
            assert a.read_bytes() == b"new"
        finally:
            sleeper.kill()
            sleeper.wait()
        owner.write_text(json.dumps({"pid": os.getpid()}))
    assert a.read_bytes() == b"new"


def test_a_dead_owners_journal_is_rolled_back(tmp_git_repo: Path) -> None:
    a = tmp_git_repo / "a.nix"
    a.write_bytes(b"old")
    txn = Transaction(tmp_git_repo).__enter__()
    txn.write(a, b"new")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    (txn.journal / "owner.json").write_text(json.dumps({"pid": int(dead.stdout)}))
    repolock.release_all()
    assert recover(tmp_git_repo) == [a.absolute()]
    assert a.read_bytes() == b"old"


def test_pidfile_fallback_judges_staleness_by_pid_and_age(tmp_path: Path) -> None:
    pidfile = tmp_path / "lock.pid"

    def stamp(pid: int, age: float) -> None:
        pidfile.write_text(json.dumps({"pid": pid, "since": time.time() - age}))

    stamp(os.getpid(), 5)
    assert not repolock._stale_pidfile(pidfile)  # alive and young
    stamp(os.getpid(), repolock.STALE_AFTER + 60)
    assert repolock._stale_pidfile(pidfile)  # alive but older than any command runs
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stamp(int(dead.stdout), 5)
    assert repolock._stale_pidfile(pidfile)  # its process is gone
    pidfile.write_text('{"pid": 1')  # cut by a kill while written
    assert repolock._stale_pidfile(pidfile)
    lock = tmp_path / "lock"
    stamp(os.getpid(), 5)
    with pytest.raises(UserError, match="locked by pid"):
        repolock._acquire_pidfile(lock, 0.2)
    stamp(int(dead.stdout), 5)
    assert repolock._acquire_pidfile(lock, 0.2) == lock
    assert json.loads(pidfile.read_text())["pid"] == os.getpid()
    repolock.release_all()
    assert not pidfile.exists()


def test_outside_git_the_lock_is_in_the_user_cache(tmp_path: Path) -> None:
    path = repolock.lock_path_for(tmp_path)
    assert path.is_relative_to(Path(os.environ["HOME"]))
    assert not path.is_relative_to(tmp_path)
