"""A git command's NUL-separated output read as git writes it: the caller parses one
part while git works on the next (``diff-tree --stdin`` over a whole history takes
git about as long as Python takes to read its output; read after git ends, the two
would add up)."""

from __future__ import annotations

import contextlib
import io
import subprocess
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import cast

from secretkit.errors import UserError
from secretkit.git import popen_git

_CHUNK = 1 << 20


def nul_parts(root: Path, args: Iterable[str], lines: Iterable[str]) -> Iterator[bytes]:
    """The NUL-separated parts of ``git <args>``'s output (the empty one after the last
    NUL is not given), with ``lines`` written to its stdin one per line by a thread.
    A git that fails raises :class:`UserError` as :func:`secretkit.git.run_git` does,
    once its output is read."""
    command = list(args)
    proc = popen_git(root, *command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    errors: list[bytes] = []

    def feed() -> None:
        try:
            proc.stdin.write("".join(f"{line}\n" for line in lines).encode())  # type: ignore[union-attr]
        except OSError:
            pass  # (git ended early: what it said is raised below)
        finally:
            with contextlib.suppress(OSError):  # (a pipe broken: the flush fails)
                proc.stdin.close()  # type: ignore[union-attr]

    def drain() -> None:  # (a git that writes much to stderr never blocks on it)
        errors.append(proc.stderr.read())  # type: ignore[union-attr]

    threads = [threading.Thread(target=feed, daemon=True), threading.Thread(target=drain)]
    for thread in threads:
        thread.start()
    finished = False
    try:
        rest = b""
        out = cast("io.BufferedReader", proc.stdout)  # (read1: what is there, at once)
        while chunk := out.read1(_CHUNK):
            parts = (rest + chunk).split(b"\0")
            rest = parts.pop()
            yield from parts
        if rest:
            yield rest
        finished = True
    finally:
        if not finished:
            proc.kill()  # (the caller stopped reading: git is not waited for)
        proc.stdout.close()
        proc.wait()
        for thread in threads:
            thread.join()
        proc.stderr.close()
    if proc.returncode != 0:
        message = b"".join(errors).decode("utf-8", "replace").strip().splitlines()
        first = message[-1] if message else f"exit {proc.returncode}"
        raise UserError(f"git {command[0]} failed: {first}")
