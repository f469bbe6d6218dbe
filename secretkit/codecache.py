"""The compiled methods of dataclasses, kept from one run to the next like bytecode.

A dataclass's ``__init__``, ``__repr__``, ``__eq__`` (and for a frozen one
``__hash__``, ``__setattr__``, ``__delattr__``) are made by compiling source text:
the ``dataclasses`` module builds it and runs ``exec`` on it.  On Python 3.11 that is
five or six compilations per class, 0.5–1 ms.  The pre-commit hook's process defines
about 60 dataclasses when it has a finding to explain, and that was 40–55 ms of a
hook whose whole budget is 100 ms (issue 15).  The text depends only on the class's
fields and options, never on a run, so its compiled code can be reused.

:func:`install` (the console script runs it first) gives the ``dataclasses`` module
an ``exec`` of its own: for source text it runs the code compiled from that exact
text, compiling it only the first time it meets the text.  :func:`save` writes what
was compiled to a file beside this module's bytecode, where the interpreter keeps its
own: ``importlib.util.cache_from_source`` names the place, so ``PYTHONPYCACHEPREFIX``
moves it and ``PYTHONDONTWRITEBYTECODE`` keeps it from being written, as for ``.pyc``
files.  The file starts with the interpreter's bytecode magic number; any other file,
a damaged one or one that cannot be read is ignored (each text is compiled again), and
a file that cannot be written is not (the next run compiles again).  Nothing else in
a run changes: the code is what ``exec`` would have compiled from the same text, with
the same file name and no inherited ``__future__`` flags.

Like ``.pyc`` files, the cache is trusted as the installed package is: it lives with
the package's own bytecode, never in a repository being scanned.
"""

from __future__ import annotations

import builtins
import contextlib
import marshal
import os
import sys
from types import CodeType
from typing import Any

# what was read from the file: source text -> its code (None until first needed)
_loaded: dict[str, CodeType] | None = None
_new: dict[str, CodeType] = {}  # compiled in this run
_used: set[str] = set()  # texts met in this run
MAX_ENTRIES = 4096  # beyond that, a save keeps only what this run met


def path() -> str | None:
    """Where the cache lives (beside this module's bytecode), or None when the
    interpreter keeps no bytecode cache."""
    from importlib.util import cache_from_source

    try:
        pyc = cache_from_source(__file__)
    except NotImplementedError:  # sys.implementation.cache_tag is None
        return None
    return os.path.splitext(pyc)[0] + ".marshal"


def _magic() -> bytes:
    from importlib.util import MAGIC_NUMBER

    return MAGIC_NUMBER


def _load() -> dict[str, CodeType]:
    where = path()
    if where is None:
        return {}
    try:
        with open(where, "rb") as file:
            data = file.read()
    except OSError:
        return {}
    magic = _magic()
    if not data.startswith(magic):
        return {}
    try:
        table = marshal.loads(data[len(magic) :])  # noqa: S302 (trusted as a .pyc is)
    except (EOFError, ValueError, TypeError):
        return {}
    if not isinstance(table, dict):
        return {}
    return {k: v for k, v in table.items() if isinstance(k, str) and isinstance(v, CodeType)}


def code_for(source: str) -> CodeType:
    """The code ``exec(source)`` runs, from the cache when it has it."""
    global _loaded
    if _loaded is None:
        _loaded = _load()
    _used.add(source)
    code = _loaded.get(source) or _new.get(source)
    if code is None:
        # exec() of a string compiles it as "<string>" with the flags of the code that
        # calls it: the dataclasses module has no __future__ import, this one has
        code = compile(source, "<string>", "exec", dont_inherit=True)
        _new[source] = code
    return code


def _exec(source: Any, globals: Any = None, locals: Any = None, /) -> None:
    """``exec`` as the dataclasses module calls it, with its text compiled once."""
    if isinstance(source, str):
        source = code_for(source)
    builtins.exec(source, globals, locals)  # noqa: S102 (the dataclasses module's exec)


def install() -> None:
    """From now on, the methods of every dataclass defined in this process come from
    the cache (the ``dataclasses`` module's own ``exec`` name: nothing else sees it)."""
    import dataclasses

    dataclasses.exec = _exec  # type: ignore[attr-defined]


def compiled() -> int:
    """How many texts this run had to compile (0: the cache had them all)."""
    return len(_new)


def save() -> None:
    """Write the cache when this run compiled something new: atomically (a file
    beside it, then a rename), unless bytecode is not to be written.  A failure is
    silent, as the interpreter's own bytecode writes are: the next run compiles."""
    global _loaded
    if not _new or sys.dont_write_bytecode:
        return
    where = path()
    if where is None:
        return
    table = dict(_loaded or {})
    if len(table) + len(_new) > MAX_ENTRIES:  # old classes' texts: keep what is in use
        table = {k: v for k, v in table.items() if k in _used}
    table.update(_new)
    temporary = f"{where}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(where), exist_ok=True)
        with open(temporary, "wb") as file:
            file.write(_magic() + marshal.dumps(table))
        os.replace(temporary, where)
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return
    _loaded = table
    _new.clear()
