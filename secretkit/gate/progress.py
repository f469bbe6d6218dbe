"""Liveness while a gate point runs: ``stage(name)`` now and about every half second
until it ends (the caller's display decides how often to show it)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def ticking(stage: Callable[[str], None] | None, name: str) -> Iterator[None]:
    if stage is None:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(0.25):
            stage(name)

    stage(name)
    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
