"""forkpool.py: every chunk is done once by a forked worker, errors come back to the
parent, and no worker is left behind however the iteration ends."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from secretkit.scan.forkpool import WorkerDied, imap_unordered
from tests.conftest import ROOT
from tests.support.processes import no_children


@pytest.mark.parametrize(("count", "workers"), [(50, 2), (3, 8), (1, 2), (7, 1)])
def test_every_chunk_is_done_once_in_a_worker(count: int, workers: int) -> None:
    table = [f"chunk-{i}" * (i + 1) for i in range(count)]  # inherited, never sent

    def work(index: int) -> tuple[int, str, int]:
        return index, table[index].upper(), os.getpid()

    results = list(imap_unordered(work, count, workers))
    assert sorted(r[:2] for r in results) == [(i, table[i].upper()) for i in range(count)]
    pids = {r[2] for r in results}
    assert os.getpid() not in pids and len(pids) <= min(count, workers)
    assert no_children()


def test_the_last_chunks_go_to_a_free_worker_not_behind_a_busy_ones() -> None:
    """Chunks 0-3 are handed out first (two per worker).  When worker A finishes chunk 0
    while its chunk 1 is long, the last chunk (4) is not queued behind it: it waits for
    the first worker with nothing in hand, here B once it has done chunks 2 and 3."""
    seconds = [0.2, 0.8, 0.3, 0.2, 0.1]

    def work(index: int) -> tuple[int, int]:
        time.sleep(seconds[index])
        return index, os.getpid()

    ran = dict(imap_unordered(work, len(seconds), 2))
    assert ran[0] == ran[1] != ran[2] == ran[3]  # (the first four: two per worker)
    assert ran[4] == ran[2]


def test_a_large_result_comes_back_whole() -> None:
    big = os.urandom(3 << 20)  # beyond a pipe's buffer many times over
    assert list(imap_unordered(lambda i: big, 1, 2)) == [big]
    assert no_children()


def test_an_exception_in_a_worker_is_raised_in_the_parent() -> None:
    def work(index: int) -> int:
        if index == 5:
            raise ValueError(f"bad chunk {index}")
        return index

    with pytest.raises(ValueError, match="bad chunk 5"):
        list(imap_unordered(work, 20, 2))
    assert no_children()


def test_a_worker_that_dies_is_an_error_naming_how() -> None:
    def work(index: int) -> int:
        if index == 3:
            os._exit(7)
        return index

    with pytest.raises(WorkerDied, match="exit status 7"):
        list(imap_unordered(work, 20, 2))
    assert no_children()


def test_leaving_early_stops_and_reaps_the_workers() -> None:
    results = imap_unordered(lambda i: time.sleep(0.05) or i, 100, 2)
    assert next(results) in range(100)
    results.close()
    assert no_children()


def test_ctrl_c_while_a_worker_forks_leaves_no_worker_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_fork = os.fork
    forked: list[int] = []

    def fork() -> int:
        pid = real_fork()
        if pid:  # the parent: Ctrl-C comes while its first worker starts
            forked.append(pid)
            signal.raise_signal(signal.SIGINT)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    try:
        with pytest.raises(KeyboardInterrupt):
            list(imap_unordered(lambda i: i, 10, 2))
        assert forked and no_children()
    finally:
        for pid in forked:  # (a worker the pool lost: not left to the next tests)
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)


def test_a_second_signal_while_the_workers_stop_still_stops_and_reaps_them_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_waitpid = os.waitpid
    interrupted: list[int] = []

    def waitpid(pid: int, options: int) -> tuple[int, int]:
        if not interrupted:  # Ctrl-C pressed again as the first worker is reaped
            interrupted.append(pid)
            signal.raise_signal(signal.SIGINT)
        return real_waitpid(pid, options)

    def work(index: int) -> int:
        if index == 5:
            raise ValueError("stop here")
        time.sleep(0.02)
        return index

    monkeypatch.setattr(os, "waitpid", waitpid)
    with pytest.raises(KeyboardInterrupt):  # (the later signal, raised once stopped)
        list(imap_unordered(work, 40, 2))
    assert interrupted and no_children()


SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    sys.path.insert(0, sys.argv[1])
    from secretkit.scan.forkpool import imap_unordered

    def work(index):
        time.sleep(0.1)
        return os.getpid()

    mode = sys.argv[2]
    seen = set()
    try:
        for pid in imap_unordered(work, 200, 2):
            seen.add(pid)
            print(pid, flush=True)
            if mode == "kill" and len(seen) == 2:
                print("both", flush=True)
                time.sleep(60)  # the test kills this process here
    except KeyboardInterrupt:
        try:
            os.waitpid(-1, os.WNOHANG)
            print("children left", flush=True)
        except ChildProcessError:
            print("stopped clean", flush=True)
    """
)


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status  # a zombie has exited


def test_ctrl_c_stops_the_workers_quietly() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(ROOT), "interrupt"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as proc:
        assert proc.stdout is not None
        workers = {int(proc.stdout.readline()) for _ in range(4)}
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal sends it: to the whole group
        out, err = proc.communicate(timeout=30)
    assert out.splitlines()[-1] == "stopped clean"
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)


def test_workers_do_not_outlive_a_killed_parent() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(ROOT), "kill"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as proc:
        assert proc.stdout is not None
        lines = iter(proc.stdout.readline, "both\n")
        workers = {int(line) for line in lines}
        assert len(workers) == 2 and all(_alive(pid) for pid in workers)
        proc.kill()
    deadline = time.monotonic() + 10  # each ends once its chunk in hand is done
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)
