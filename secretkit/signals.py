"""Holding the signals that stop secretkit while a child process starts.

SIGTERM and SIGHUP raise :class:`~secretkit.errors.Terminated` wherever the program
is (:func:`secretkit.boundary.catch_signals`), and Ctrl-C raises KeyboardInterrupt, so
that cleanup runs as for any exception.  Raised inside ``subprocess.Popen``, after the
fork and before the caller holds the child, the cleanup cannot stop that child: an
editor holding plaintext, or git-filter-repo rewriting history, runs on alone.
:func:`held` sets the handlers aside while the child starts and runs what came once
the caller can stop it.  In Python's handlers, not a signal mask: a mask is per thread,
and another thread of the process would take the signal while the main thread still
ran the handler at once.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from typing import Any

STOPPING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def held() -> Iterator[Callable[[], None]]:
    """Hold Ctrl-C, SIGTERM and SIGHUP: their handlers are set aside and what comes is
    noted.  Yields ``release``, which puts the handlers back and raises each noted
    signal again, so that its handler runs there (also on leaving the block)."""
    noted: list[int] = []
    previous: dict[int, Any] = {}

    def release() -> None:
        while previous:
            signum, handler = previous.popitem()
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        while noted:
            signal.raise_signal(noted.pop(0))

    try:
        for signum in STOPPING:
            previous[signum] = signal.signal(signum, lambda number, _frame: noted.append(number))
    except ValueError:  # not the main thread (embedded use): nothing can be held
        pass
    try:
        yield release
    finally:
        release()


@contextlib.contextmanager
def ignored(restore: bool = True) -> Iterator[None]:
    """Ignore Ctrl-C, SIGTERM and SIGHUP, then put their handlers back (unless not
    ``restore``: the program ends ignoring them): for the error boundary's last steps,
    once the exit code is decided (its report, the locks, a worker pool let go with the
    traceback), which a second signal must not cut short with a traceback of its own."""
    previous: dict[int, Any] = {}
    try:
        for signum in STOPPING:
            previous[signum] = signal.signal(signum, signal.SIG_IGN)
    except ValueError:  # not the main thread (embedded use): nothing to ignore
        pass
    try:
        yield
    finally:
        for number, handler in previous.items() if restore else ():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
