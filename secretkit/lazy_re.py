"""Regular expressions compiled on first use.

The pre-commit hook is a fresh process per commit: it imports the scanner's and the
planner's modules and runs few of their patterns (a Nix file without a command never
asks the command detector's two dozen).  Compiling a pattern costs about 0.1 ms of
Python; at import, for every pattern of every module, that was a tenth of the hook.

``lazy(r"…")`` stands where ``re.compile(r"…")`` stood at module level.  The first
use compiles it and puts the compiled pattern's methods on the object itself, so
later calls cost what a compiled pattern's do (no indirection on a scan's hot path).
In the console script the compiling is :func:`secretkit.codecache.pattern`'s, which
keeps the programs of these module-level patterns from one run to the next.
"""

from __future__ import annotations

import re
from typing import Any, AnyStr, cast

from secretkit import codecache

# What the compiled pattern lends: its methods and its describing attributes.
_ATTRIBUTES = (
    "search",
    "match",
    "fullmatch",
    "finditer",
    "findall",
    "split",
    "sub",
    "subn",
    "pattern",
    "flags",
    "groups",
    "groupindex",
)


# every pattern made here, for :func:`compile_all` (module-level patterns live as long)
_MADE: list[_Lazy] = []


class _Lazy:
    """Stands for ``re.compile(source, flags)`` until an attribute is asked for."""

    def __init__(self, source: str | bytes, flags: int) -> None:
        self._source = source
        self._flags = flags
        _MADE.append(self)

    def __getattr__(self, name: str) -> Any:
        # only called for what the instance lacks: once, at the first use
        if name.startswith("__") or name not in _ATTRIBUTES:
            raise AttributeError(name)
        compiled = codecache.pattern(self._source, self._flags)
        for attribute in _ATTRIBUTES:
            setattr(self, attribute, getattr(compiled, attribute))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy({self._source!r})"


def lazy(source: AnyStr, flags: int = 0) -> re.Pattern[AnyStr]:
    """A pattern compiled the first time it is used (see the module's text)."""
    return cast("re.Pattern[AnyStr]", _Lazy(source, flags))


def compile_all() -> None:
    """Compile every pattern made so far: before a process pool forks its workers, so
    that they inherit them compiled instead of each compiling its own."""
    for pattern in _MADE:
        if "search" not in vars(pattern):
            try:
                pattern.search  # noqa: B018  (the first use compiles)
            except re.error:
                continue  # (raised again where it is used)
