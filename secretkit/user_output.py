"""Writing the file a user named with ``--output`` (or ``--public-out``).

A path the user gives is not one of the repository's files: it may be a symbolic
link the user keeps (``report.json -> reports/today.json``), a FIFO or a process
substitution (``--output >(wc -c)``, i.e. ``/dev/fd/63``), ``/dev/stdout`` or a
device.  :func:`secretkit.atomic.write_atomic` (temp file + rename) would replace
each of those with a regular file — root's ``--output /dev/full`` replaced the
device node.  So:

* a regular file, or a new one: written atomically, through any symbolic links
  (the link stays a link, its target gets the content);
* anything else (FIFO, character device, socket) and every ``/proc/…/fd`` magic
  link (``/dev/fd/N``, ``/dev/stdout``: a descriptor the caller holds, whatever
  it points to): written through, with a plain open and write;
* a directory that does not exist is an error: a typo must not create a tree;
* a private file (an identity, decrypted plaintext) is only ever a regular file
  created or replaced here, never reached through a link, and mode 0600: a secret
  must not go into a FIFO or device by a slip of the path.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from secretkit.atomic import describe_os_error, os_error_hint, write_atomic
from secretkit.errors import UserError

_MAX_LINKS = 40  # as the kernel's ELOOP limit


def _magic(directory: str) -> bool:
    """Whether a name in ``directory`` is one of /proc's descriptor links."""
    parts = Path(directory).parts
    return len(parts) >= 4 and parts[1] == "proc" and parts[-1] in ("fd", "fdinfo")


def _follow(path: Path) -> tuple[Path, bool]:
    """The path that ``path`` names after its links, and whether it went through a
    ``/proc/<pid>/fd`` link (then the caller's descriptor is written, not a path)."""
    current = path
    for _ in range(_MAX_LINKS):
        parent = os.path.realpath(current.parent)
        if _magic(parent):
            return current, True
        current = Path(parent) / current.name
        if not current.is_symlink():
            return current, False
        current = current.parent / os.readlink(current)
    raise UserError(f"cannot write {path}: too many levels of symbolic links")


def _write_through(shown: Path, path: Path, data: bytes) -> None:
    """Open and write, no temp file and no rename: the node stays what it is (appending:
    ``--output /dev/stdout >> log`` must not write over the log)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOCTTY | os.O_CLOEXEC)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UserError(f"{shown}: {reason}", hint=os_error_hint(exc)) from None


def require_parent(given: Path, path: Path) -> None:
    """Refuse ``path`` (shown as ``given``) whose directory does not exist; a command
    that stores something first calls it before, so the refusal changes nothing."""
    parent = path.parent
    if not parent.is_dir():
        raise UserError(
            f"cannot write {given}: the directory {parent} does not exist",
            hint=f"create it first (mkdir -p {parent}) or choose another path",
        )


def write_user_path(cwd: Path, given: Path | str, data: bytes, *, mode: int | None = None) -> Path:
    """Write ``data`` to the user's path ``given`` (relative to ``cwd``) as the module
    docstring says; return the path written (``given`` made absolute)."""
    shown = Path(given)
    path = shown if shown.is_absolute() else cwd / shown
    target, magic = _follow(path)
    if magic:
        _write_through(shown, target, data)
        return path
    try:
        kind = target.stat().st_mode
    except FileNotFoundError:
        kind = None
    except OSError as exc:
        raise UserError(describe_os_error(exc), hint=os_error_hint(exc)) from None
    if kind is not None and not stat.S_ISREG(kind):
        if stat.S_ISDIR(kind):
            raise UserError(f"cannot write {shown}: it is a directory", hint="name a file")
        _write_through(shown, target, data)
        return path
    require_parent(shown, target)
    try:
        write_atomic(target, data, mode)
    except OSError as exc:
        raise UserError(describe_os_error(exc), hint=os_error_hint(exc)) from None
    return path


def write_private_path(
    cwd: Path,
    given: Path | str,
    data: bytes,
    *,
    what: str,
    new_only: bool = False,
) -> Path:
    """Write a secret (``what``: "an identity", "the plaintext") to the user's path,
    mode 0600, only as a regular file and never through a symbolic link; with
    ``new_only`` an existing path is refused (created with O_EXCL)."""
    shown = Path(given)
    path = shown if shown.is_absolute() else cwd / shown
    try:
        kind: int | None = path.lstat().st_mode
    except FileNotFoundError:
        kind = None
    if kind is not None and new_only:
        raise UserError(
            f"{shown} already exists; refusing to overwrite {what}",
            hint="choose another --output path or remove the old file first",
        )
    if kind is not None and not stat.S_ISREG(kind):
        node = "a symbolic link" if stat.S_ISLNK(kind) else "not a regular file"
        raise UserError(
            f"refusing to write {what} to {shown}: it is {node}",
            hint="name a regular file, or leave out --output to write to stdout",
        )
    require_parent(shown, path)
    try:
        if new_only:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        else:
            write_atomic(path, data, 0o600)
    except FileExistsError:
        raise UserError(f"{shown} already exists; refusing to overwrite {what}") from None
    except OSError as exc:
        raise UserError(describe_os_error(exc), hint=os_error_hint(exc)) from None
    return path
