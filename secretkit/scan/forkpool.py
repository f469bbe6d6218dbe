"""Chunks of a scan in forked worker processes, results back through pipes.

A tree scan forks its workers once it has loaded its modules, compiled its patterns
and listed its files: each worker starts with all of it.  ``ProcessPoolExecutor``
cost the scan ~20 ms before its first file (importing ``multiprocessing``,
``concurrent.futures`` and with them ``logging``, ``socket``, ``tempfile``; starting
its threads; pickling every job to a worker) and then pickled each chunk of jobs
across.  Here a worker is an ``os.fork()`` of the scanning process.  It reads the
index of its next chunk from one pipe, runs ``work(index)`` and writes the pickled
result to another, two chunks in flight per worker so it never waits for the next.

A worker ignores Ctrl-C (it reaches the whole process group: the parent stops the
workers) and takes SIGTERM and SIGHUP as their defaults.  It ends with ``os._exit``
when its task pipe closes, as it does when the parent is gone, so a worker outlives a
parent that was killed by the chunk in hand at most.  An exception in ``work`` is
raised again in the parent; a worker that dies is reported as a :class:`WorkerDied`
error.  Leaving the iteration early (an error, Ctrl-C, SIGTERM raised as an
exception) kills the workers and waits for them: none is left behind.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import struct
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from secretkit.signals import held

R = TypeVar("R")
_LENGTH = struct.Struct("<Q")
_INDEX = struct.Struct("<q")
IN_FLIGHT = 2  # chunks sent to a worker ahead of its results


class WorkerDied(RuntimeError):
    """A worker process ended without returning its chunk's result."""


class _Worker:
    __slots__ = ("in_flight", "pid", "results", "tasks")

    def __init__(self, pid: int, tasks: int, results: int) -> None:
        self.pid, self.tasks, self.results = pid, tasks, results
        self.in_flight = 0


def imap_unordered(work: Callable[[int], R], count: int, workers: int) -> Iterator[R]:
    """``work(i)`` for each ``i`` in ``range(count)``, run in ``workers`` forked
    processes (at most ``count``), yielded as each is done."""
    if count <= 0:
        return
    started: list[_Worker] = []
    finished = False
    try:
        for _ in range(max(1, min(workers, count))):
            _start(work, started)
        sent = 0
        for worker in started:
            while worker.in_flight < IN_FLIGHT and sent < count:
                _send(worker, sent)
                sent += 1
        poller = select.poll()
        by_fd = {}
        for worker in started:
            poller.register(worker.results, select.POLLIN)
            by_fd[worker.results] = worker
        received = 0
        while received < count:
            for fd, _event in poller.poll():
                worker = by_fd[fd]
                ok, payload = _receive(worker)
                received += 1
                worker.in_flight -= 1
                if not ok:
                    raise payload
                # near the end no chunk waits behind another in one worker's queue
                # while another worker is idle: the last ones go to whichever is free
                ahead = IN_FLIGHT if count - sent > len(started) else 1
                while worker.in_flight < ahead and sent < count:
                    _send(worker, sent)
                    sent += 1
                yield payload
        finished = True
    finally:
        # a second Ctrl-C (or a SIGTERM after it) would stop the stopping half way: a
        # worker left running its chunks or unreaped.  It is raised once all are gone.
        with held():
            _stop(started, kill=not finished)


def _start(work: Callable[[int], Any], siblings: list[_Worker]) -> None:
    """Fork a worker and add it to ``siblings``: both inside :func:`held`, as a
    signal held there is raised on leaving it, and a worker not yet in the list then
    would be neither stopped nor reaped."""
    task_read, task_write = os.pipe()
    result_read, result_write = os.pipe()
    with held():  # a signal now would leave a child the parent does not know of
        try:
            pid = os.fork()
        except OSError:
            for fd in (task_read, task_write, result_read, result_write):
                os.close(fd)
            raise
        if pid == 0:  # the worker: never returns
            _serve(work, task_read, task_write, result_read, result_write, siblings)
        os.close(task_read)
        os.close(result_write)
        siblings.append(_Worker(pid, task_write, result_read))


def _serve(
    work: Callable[[int], Any],
    task_read: int,
    task_write: int,
    result_read: int,
    result_write: int,
    siblings: list[_Worker],
) -> None:
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        os.close(task_write)
        os.close(result_read)
        for sibling in siblings:  # their pipes' ends: EOF must reach them, not us
            os.close(sibling.tasks)
            os.close(sibling.results)
        while True:
            data = _read_exactly(task_read, _INDEX.size)
            if data is None:
                break  # the parent closed the pipe (or is gone): done
            (index,) = _INDEX.unpack(data)
            try:
                message = pickle.dumps((True, work(index)), pickle.HIGHEST_PROTOCOL)
            except BaseException as exc:  # (raised again in the parent)
                message = _error_message(exc)
            _write_all(result_write, _LENGTH.pack(len(message)) + message)
    except BaseException:  # (a parent gone: nothing to tell it)
        code = 1
    finally:
        os._exit(code)


def _error_message(exc: BaseException) -> bytes:
    try:
        return pickle.dumps((False, exc), pickle.HIGHEST_PROTOCOL)
    except Exception:  # (an exception that does not pickle: its text)
        text = f"{type(exc).__name__}: {exc}"
        return pickle.dumps((False, RuntimeError(text)), pickle.HIGHEST_PROTOCOL)


def _send(worker: _Worker, index: int) -> None:
    # a worker that died: reading its results finds the end and says so
    with contextlib.suppress(BrokenPipeError):
        _write_all(worker.tasks, _INDEX.pack(index))
    worker.in_flight += 1


def _receive(worker: _Worker) -> tuple[bool, Any]:
    head = _read_exactly(worker.results, _LENGTH.size)
    body = None if head is None else _read_exactly(worker.results, _LENGTH.unpack(head)[0])
    if body is None:
        raise WorkerDied(f"a scan worker ended unexpectedly ({_status(worker)})")
    ok, payload = pickle.loads(body)  # noqa: S301 (written by our own forked worker)
    return bool(ok), payload


def _status(worker: _Worker) -> str:
    try:
        _pid, status = os.waitpid(worker.pid, 0)
    except ChildProcessError:
        return "already reaped"
    worker.pid = 0
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def _stop(started: list[_Worker], *, kill: bool) -> None:
    """Close the task pipes (a worker then exits), kill the workers first when the
    work did not finish, and reap every one."""
    for worker in started:
        if kill and worker.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGKILL)
        for fd in (worker.tasks, worker.results):
            with contextlib.suppress(OSError):
                os.close(fd)
    for worker in started:
        while worker.pid:
            try:
                os.waitpid(worker.pid, 0)
            except ChildProcessError:
                pass
            except InterruptedError:
                continue
            worker.pid = 0


def _read_exactly(fd: int, size: int) -> bytes | None:
    """``size`` bytes from ``fd``; None at end of file before them."""
    parts: list[bytes] = []
    left = size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
