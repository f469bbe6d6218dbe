"""Progress on stderr while a long command runs (the history scan, ``check``'s points).

Terminal output of the CLI layer: redrawn in place on a terminal, else plain lines
at most about once a second.  Commands take the callbacks these return.
"""

from __future__ import annotations

import sys
from collections.abc import Callable


def clear_line() -> None:
    """Remove the progress line before a report is printed (on a terminal)."""
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")


def stage_progress(clock: list[float]) -> Callable[[str], None]:
    """Which point ``check`` is at, on stderr: redrawn in place on a terminal, else a
    line when the point changes and then about once a second."""
    import time

    tty = sys.stderr.isatty()
    when = clock  # when any progress line was last written (shared with the history's)
    shown = [""]

    def show(name: str) -> None:
        now = time.monotonic()
        if name == shown[0] and now - when[0] < 0.85:
            return  # the history scan's own lines count too: no echo while they flow
        when[0], shown[0] = now, name
        sys.stderr.write(f"\rcheck: {name}…\033[K" if tty else f"check: {name}…\n")
        sys.stderr.flush()

    return show


def history_progress(clock: list[float] | None = None) -> Callable[[int, int], None]:
    """History-scan progress on stderr: a bar redrawn in place on a terminal, else a
    plain line at most once a second (and the last one)."""
    import time

    tty = sys.stderr.isatty()
    last = clock if clock is not None else [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if total == 0:  # still walking the commit graph
            if now - last[0] >= 0.75:
                last[0] = now
                sys.stderr.write(("\r" if tty else "") + "scanning history: walking commits…")
                sys.stderr.write("" if tty else "\n")
                sys.stderr.flush()
            return
        final = done >= total
        if not final and now - last[0] < (0.1 if tty else 0.75):
            return
        last[0] = now
        pct = 100 * done // total if total else 100
        if tty:
            bar = "#" * (pct // 4)
            end = "\n" if final else ""
            sys.stderr.write(f"\rscanning history [{bar:<25}] {done}/{total} blobs{end}")
        else:
            sys.stderr.write(f"scanning history: {done}/{total} blobs ({pct}%)\n")
        sys.stderr.flush()

    return show
