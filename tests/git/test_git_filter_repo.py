"""filter_repo.py: a stop signal that comes while git-filter-repo starts (inside
``Popen``, after the fork) stops it and its processes before the expressions file,
which holds the values, is wiped; it once left it rewriting history alone."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from secretkit.git import filter_repo
from secretkit.sensitive import Sensitive
from tests.conftest import commit_all, git, need_tool
from tests.support import fake


def test_a_signal_while_filter_repo_starts_stops_it(
    tmp_git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from secretkit.boundary import catch_signals
    from secretkit.errors import Terminated

    need_tool("git-filter-repo")
    value = fake.password("purge-race")
    (tmp_git_repo / "app.conf").write_text(f"password = {value}\n")
    head = commit_all(tmp_git_repo, "config")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    started: list[subprocess.Popen[bytes]] = []
    real = subprocess.Popen

    def popen(*args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        proc = real(*args, **kwargs)  # type: ignore[call-overload]
        if "--replace-text" in args[0]:  # (git's own calls go through Popen too)
            started.append(proc)
            os.kill(os.getpid(), signal.SIGTERM)
        return proc

    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    monkeypatch.setattr(filter_repo.subprocess, "Popen", popen)
    catch_signals()
    done = threading.Event()  # (another thread, which a per-thread signal mask misses)
    threading.Thread(target=done.wait, daemon=True).start()
    try:
        with pytest.raises(Terminated):
            filter_repo.replace_text(tmp_git_repo, [Sensitive(value.encode())], ["refs/heads/main"])
    finally:
        done.set()
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        for proc in started:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                pytest.fail("git-filter-repo was left running")
    assert len(started) == 1 and started[0].returncode == -signal.SIGKILL
    assert list(scratch.iterdir()) == []  # the expressions file and its directory are gone
    assert git(tmp_git_repo, "rev-parse", "HEAD").strip() == head  # nothing was rewritten
