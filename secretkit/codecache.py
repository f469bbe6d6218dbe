"""What Python compiles at every start-up, kept from one run to the next like bytecode.

Two things secretkit's modules make when they are imported cost the pre-commit hook
most of its start-up (issue 15: ≤ 100 ms in all), and neither depends on the run:

* **Dataclass methods.**  A dataclass's ``__init__``, ``__repr__``, ``__eq__`` (and
  for a frozen one ``__hash__``, ``__setattr__``, ``__delattr__``) are made by
  compiling source text that the ``dataclasses`` module builds and gives to ``exec``:
  on Python 3.11 five or six compilations per class, 0.5–1 ms.  The hook with a
  finding to explain defines about 60 dataclasses: 40–55 ms.
* **Regular expressions.**  ``re`` parses and compiles a pattern in Python (about
  0.2 ms each, 3 ms for a large one); the patterns of :mod:`secretkit.lazy_re` cost
  the hook with a finding ~14 ms and a scan, which compiles all of them before its
  workers fork, ~30 ms.

:func:`install` (the console script's first step) gives the ``dataclasses`` module an
``exec`` of its own, which runs the code compiled from the exact same text, and makes
:func:`pattern` (what ``lazy_re`` compiles with) build a pattern from the program
``re``'s compiler made of the same source and flags.  Each is compiled the usual way
the first time it is met, and a pattern's program is kept only when the pattern built
from it equals the one ``re.compile`` returned (``re`` compares patterns by their
program).  :func:`save` writes what was new to ``secretkit/codecache.<python>.marshal``
in the user's cache directory (a read-only install, a Nix store path, gains as much),
unless ``PYTHONDONTWRITEBYTECODE`` asks Python to write no compiled code.  The file
starts with the interpreter's bytecode magic number and ``re``'s program version, then
a CRC-32 of the rest; any other file, a damaged one (a bit flipped on disk: its code
would run, or crash the interpreter, as it came) or one that cannot be read is ignored
(everything is compiled again, and the file replaced), and a file that cannot be
written is not (the next run compiles again).

The file holds code, so it is read only when it is a regular file, the user's own and
writable by no one else (checked on the open file), and written mode 0600 (its folder,
when this module makes it, 0700).  Only what module code defines ever reaches it:
class definitions and the patterns :func:`secretkit.lazy_re.lazy` is given at module
level (a test holds every ``lazy`` call there), never a value a run reads.  Nothing in
a repository being scanned is read or written.
"""

from __future__ import annotations

import builtins
import contextlib
import marshal
import os
import re
import stat
import sys
from types import CodeType
from typing import Any

# kind -> key -> compiled form: "exec": source text -> code; "re": (source, flags) ->
# the arguments of _sre.compile after the source.  The file's forms stay marshalled
# (bytes) until a run meets their key (_entry).
_loaded: dict[str, dict[Any, bytes]] | None = None  # read from the file (None: not yet)
_new: dict[str, dict[Any, Any]] = {"exec": {}, "re": {}}  # compiled in this run
_used: dict[str, set[Any]] = {"exec": set(), "re": set()}  # met in this run
_installed = False
MAX_ENTRIES = 4096  # per kind; beyond that, a save keeps only what this run met


def path() -> str | None:
    """Where the cache lives: the user's cache directory
    (:func:`secretkit.user_cache.secretkit_cache`), one file per interpreter version;
    None without one or when the interpreter keeps no bytecode cache."""
    from secretkit.user_cache import secretkit_cache

    tag = sys.implementation.cache_tag
    folder = secretkit_cache()
    if tag is None or folder is None:
        return None
    return os.path.join(folder, f"codecache.{tag}.marshal")


def _header() -> bytes:
    """The interpreter's bytecode magic number and ``re``'s program version: a file
    written by another interpreter starts otherwise."""
    from importlib.util import MAGIC_NUMBER

    try:
        import _sre  # type: ignore[import-not-found]

        version = int(_sre.MAGIC)
    except (ImportError, AttributeError, TypeError, ValueError):
        version = 0
    return MAGIC_NUMBER + version.to_bytes(8, "little", signed=True)


_CHECKSUM = 4  # bytes of the CRC-32 after the header


def _checksum(payload: bytes) -> bytes:
    """The CRC-32 of what follows the header (binascii: no OpenSSL to load)."""
    import binascii

    return binascii.crc32(payload).to_bytes(_CHECKSUM, "little")


def _valid_program(key: object, value: object) -> bool:
    return (
        isinstance(key, tuple)
        and len(key) == 2
        and isinstance(key[0], str | bytes)
        and isinstance(key[1], int)
        and isinstance(value, tuple)
        and len(value) == 5
        and isinstance(value[0], int)
        and isinstance(value[1], list)
        and isinstance(value[2], int)
        and isinstance(value[3], dict)
        and isinstance(value[4], tuple)
    )


def _load() -> dict[str, dict[Any, Any]]:
    empty: dict[str, dict[Any, Any]] = {"exec": {}, "re": {}}
    where = path()
    if where is None:
        return empty
    try:
        # (non-blocking: a FIFO put there must not hang the program)
        with open(os.open(where, os.O_RDONLY | os.O_NONBLOCK), "rb") as file:
            # only this user's own regular file, writable by no one else: it holds code
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):
                return empty
            if info.st_uid != os.getuid() or info.st_mode & 0o022:
                return empty
            data = file.read()
    except OSError:
        return empty
    header = _header()
    if not data.startswith(header):
        return empty
    payload = data[len(header) + _CHECKSUM :]
    if data[len(header) : len(header) + _CHECKSUM] != _checksum(payload):
        return empty  # damaged since it was written: marshal would load most damage
    try:
        table = marshal.loads(payload)  # noqa: S302 (trusted as a .pyc is)
    except (EOFError, ValueError, TypeError):
        return empty
    if not isinstance(table, dict):
        return empty
    for kind in ("exec", "re"):
        entries = table.get(kind)
        if isinstance(entries, dict):
            empty[kind] = {k: v for k, v in entries.items() if isinstance(v, bytes)}
    return empty


def _table(kind: str) -> dict[Any, Any]:
    global _loaded
    if _loaded is None:
        _loaded = _load()
    return _loaded[kind]


def _entry(kind: str, key: Any) -> Any:
    """The compiled form the file holds for ``key``, unmarshalled now (each entry is
    kept marshalled: a run unmarshals only what it meets, not every class and pattern
    of every command), or None: none, or not one of the expected shape."""
    blob = _table(kind).get(key)
    if blob is None:
        return None
    try:
        value = marshal.loads(blob)  # noqa: S302 (trusted as a .pyc is)
    except (EOFError, ValueError, TypeError):
        return None
    if kind == "exec":
        return value if isinstance(key, str) and isinstance(value, CodeType) else None
    return value if _valid_program(key, value) else None


def code_for(source: str) -> CodeType:
    """The code ``exec(source)`` runs, from the cache when it has it."""
    _used["exec"].add(source)
    code = _entry("exec", source) or _new["exec"].get(source)
    if code is None:
        # exec() of a string compiles it as "<string>" with the flags of the code that
        # calls it: the dataclasses module has no __future__ import, this one has
        code = compile(source, "<string>", "exec", dont_inherit=True)
        _new["exec"][source] = code
    return code


def _exec(source: Any, globals: Any = None, locals: Any = None, /) -> None:
    """``exec`` as the dataclasses module calls it, with its text compiled once."""
    if isinstance(source, str):
        source = code_for(source)
    builtins.exec(source, globals, locals)  # noqa: S102 (the dataclasses module's exec)


def _program(source: str | bytes, flags: int) -> tuple[Any, ...] | None:
    """What ``re``'s compiler hands ``_sre.compile`` for ``source`` (the steps of
    ``re._compiler.compile``), or None where this interpreter's ``re`` differs."""
    try:
        from re import _compiler, _parser  # type: ignore[attr-defined]

        parsed = _parser.parse(source, flags)
        code = _compiler._code(parsed, flags)
        state = parsed.state
        names: list[str | None] = [None] * state.groups
        for name, number in state.groupdict.items():
            names[number] = name
        groupindex = {str(name): int(number) for name, number in state.groupdict.items()}
        return (
            int(flags | state.flags),
            [int(op) for op in code],
            int(state.groups - 1),
            groupindex,
            tuple(names),
        )
    except Exception:
        return None


def _build(source: str | bytes, program: tuple[Any, ...]) -> re.Pattern[Any] | None:
    try:
        import _sre

        built: re.Pattern[Any] = _sre.compile(source, *program)
    except Exception:
        return None
    return built


def pattern(source: str | bytes, flags: int = 0) -> re.Pattern[Any]:
    """``re.compile(source, flags)``; once :func:`install` ran, built from the cached
    program when the cache has one (a module-level pattern: see the module's text)."""
    if not _installed:
        return re.compile(source, flags)
    key = (source, int(flags))
    _used["re"].add(key)
    program = _entry("re", key) or _new["re"].get(key)
    if program is not None:
        built = _build(source, program)
        if built is not None:
            return built
    compiled = re.compile(source, flags)
    program = _program(source, int(flags))
    if program is not None and _build(source, program) == compiled:
        _new["re"][key] = program
    return compiled


def install() -> None:
    """From now on, the methods of every dataclass defined in this process and the
    patterns of :mod:`secretkit.lazy_re` come from the cache (the ``dataclasses``
    module's own ``exec`` name: nothing else sees it)."""
    global _installed
    _dataclasses_without_inspect()
    import dataclasses

    dataclasses.exec = _exec  # type: ignore[attr-defined]
    _installed = True


def _dataclasses_without_inspect() -> None:
    """Import ``dataclasses`` without ``inspect``, which it imports at the top (with
    ``ast``, ``dis`` and ``tokenize``: 9–14 ms of the hook's start-up) only to name a
    class that has no docstring (every secretkit dataclass has one).  Its ``inspect``
    is a stand-in that imports the real module on first use; ``sys.modules`` never
    keeps the stand-in, so any other import gets the real one."""
    import types

    if "dataclasses" in sys.modules or "inspect" in sys.modules:
        return

    class Later(types.ModuleType):
        def __getattr__(self, attr: str) -> Any:
            import dataclasses
            import importlib

            real = importlib.import_module("inspect")
            dataclasses.inspect = real  # type: ignore[attr-defined]
            return getattr(real, attr)

    stand_in = Later("inspect")
    sys.modules["inspect"] = stand_in
    try:
        import dataclasses  # noqa: F401
    finally:
        if sys.modules.get("inspect") is stand_in:
            del sys.modules["inspect"]


def compiled() -> int:
    """How many texts and patterns this run had to compile (0: the cache had all)."""
    return len(_new["exec"]) + len(_new["re"])


def save() -> None:
    """Write the cache when this run compiled something new: atomically (a file
    beside it, then a rename), unless bytecode is not to be written.  A failure is
    silent, as the interpreter's own bytecode writes are: the next run compiles."""
    global _loaded
    if not compiled() or sys.dont_write_bytecode:
        return
    where = path()
    if where is None:
        return
    table: dict[str, dict[Any, Any]] = {}
    for kind, new in _new.items():
        kept = dict((_loaded or {}).get(kind, {}))
        if len(kept) + len(new) > MAX_ENTRIES:  # old classes and patterns: drop unused
            kept = {k: v for k, v in kept.items() if k in _used[kind]}
        kept.update((k, marshal.dumps(v)) for k, v in new.items())
        table[kind] = kept
    temporary = f"{where}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(where), mode=0o700, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "wb") as file:
            payload = marshal.dumps(table)
            file.write(_header() + _checksum(payload) + payload)
        os.replace(temporary, where)
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return
    _loaded = table
    for new in _new.values():
        new.clear()
