"""A stop signal sent from inside ``subprocess.Popen``, just after the fork: the moment
a handler raising there once left the child running (``secretkit.signals``)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence

import pytest


@contextlib.contextmanager
def sigterm_inside_popen(
    monkeypatch: pytest.MonkeyPatch,
    module: object,
    what: str,
    picks: Callable[[Sequence[str]], bool],
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """While the block runs, ``module.subprocess.Popen`` sends this process SIGTERM
    right after starting a child whose argv ``picks``, with secretkit's handlers in
    place and a second thread alive (a per-thread signal mask misses it: the kernel
    gives it the signal, Python still runs the handler in the main thread).  Yields the
    children picked; on leaving, restores the handlers and fails if one (``what``) is
    still running (killed then, with its process group when it leads one)."""
    from secretkit.boundary import catch_signals

    started: list[subprocess.Popen[bytes]] = []
    real = subprocess.Popen

    def popen(*args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        proc = real(*args, **kwargs)  # type: ignore[call-overload]
        if picks(args[0]):  # type: ignore[arg-type]
            started.append(proc)
            os.kill(os.getpid(), signal.SIGTERM)
        return proc

    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    monkeypatch.setattr(module.subprocess, "Popen", popen)  # type: ignore[attr-defined]
    catch_signals()
    done = threading.Event()
    threading.Thread(target=done.wait, daemon=True).start()
    try:
        yield started
    finally:
        done.set()
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        for proc in started:
            if proc.poll() is None:
                if os.getpgid(proc.pid) == proc.pid:
                    os.killpg(proc.pid, signal.SIGKILL)
                else:
                    proc.kill()
                proc.wait()
                pytest.fail(f"{what} was left running")
