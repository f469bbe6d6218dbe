"""One lock per repository, held by every writing command for its whole run.

Two writers that each read ``.sops.yaml`` and the sops files, decide, and then
write would lose each other's changes (two ``rotate host`` runs, ``edit`` during a
rotation) or roll back each other's live journal.  So every writing command
takes this lock before it reads anything (:func:`secretkit.atomic.recover` is the
one place that does, and every writing command calls it first) and keeps it
until the command ends.

The lock is an ``flock`` on ``<git dir>/secretkit/lock`` (outside git: a file in a
per-user cache directory named after a hash of the repository path).  The kernel drops
it when the holder exits in any way — return, exception, signal, SIGKILL — so a
dead process never leaves a lock that blocks the next run.  The file records the
holder's pid, start time and command for the message a waiting run prints.  On
a filesystem without ``flock`` the lock falls back to an exclusive-create pid
file, judged stale when its pid is dead or it is older than :data:`STALE_AFTER`.

A second writer waits up to ``SECRETKIT_LOCK_WAIT`` seconds (default 60) and then
stops with exit 3, naming the holder.  The lock is re-entrant within a process.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from secretkit.errors import UserError

LOCK_DIR = "secretkit"
LOCK_NAME = "lock"
STALE_AFTER = 24 * 3600  # seconds: a pid-file lock older than this is stale
_WAIT_ENV = "SECRETKIT_LOCK_WAIT"
_DEFAULT_WAIT = 60.0

# lock file -> (fd or -1 for a pid-file lock, path of the pid file or None)
_held: dict[Path, tuple[int, Path | None]] = {}


def git_dir_of(root: Path) -> Path | None:
    """The git directory of the work tree at ``root`` (``.git`` or a ``gitdir:`` file)."""
    git = root / ".git"
    if git.is_dir():
        return git
    if git.is_file():  # worktree or submodule: "gitdir: <path>"
        text = git.read_text(encoding="utf-8", errors="replace").strip()
        if text.startswith("gitdir:"):
            gitdir = Path(text.split(":", 1)[1].strip())
            return gitdir if gitdir.is_absolute() else (root / gitdir).resolve()
    return None


def lock_path_for(root: Path) -> Path:
    """Where the lock of the repository at ``root`` lives."""
    git = git_dir_of(root)
    if git is not None:
        return git / LOCK_DIR / LOCK_NAME
    from secretkit.user_cache import secretkit_cache

    folder = secretkit_cache()
    if folder is None:  # no usable home: a folder of this user's own in the temp dir
        folder = os.path.join(tempfile.gettempdir(), f"secretkit-{os.getuid()}", "secretkit")
    digest = hashlib.sha256(str(root.resolve()).encode("utf-8", "surrogateescape")).hexdigest()
    return Path(folder) / "locks" / f"{digest[:32]}.lock"


def is_held(root: Path) -> bool:
    return lock_path_for(root) in _held


def process_start(pid: int) -> str | None:
    """An identifier of when ``pid`` started (Linux /proc), to tell pid reuse apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


def pid_alive(pid: int, start: str | None = None) -> bool:
    """Whether process ``pid`` runs (and, when ``start`` is known, is the same process)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if start is not None:
        now = process_start(pid)
        return now is None or now == start
    return True


def _stamp() -> bytes:
    record = {
        "pid": os.getpid(),
        "start": process_start(os.getpid()),
        "since": time.time(),
        "command": " ".join(["secretkit", *sys.argv[1:3]]) if sys.argv else "secretkit",
    }
    return (json.dumps(record) + "\n").encode()


def _holder(path: Path) -> str:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        pid = int(record["pid"])
        age = max(0, int(time.time() - float(record["since"])))
        return f"pid {pid}, `{record.get('command', 'secretkit')}`, for {age} s"
    except (OSError, ValueError, KeyError, TypeError):
        return "another secretkit process"


def _busy(path: Path, waited: float) -> UserError:
    return UserError(
        f"the repository is locked by {_holder(path)} (waited {waited:.0f} s)",
        hint=f"wait for that command to finish and retry (lock file: {path})",
    )


def _wait_limit() -> float:
    raw = os.environ.get(_WAIT_ENV, "")
    try:
        return max(0.0, float(raw)) if raw else _DEFAULT_WAIT
    except ValueError:
        return _DEFAULT_WAIT


def acquire(root: Path) -> Path:
    """Take the lock of the repository at ``root`` (wait, then exit 3); return its path."""
    path = lock_path_for(root)
    if path in _held:
        return path
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise UserError(
            f"cannot create the repository lock {path}: {exc.strerror}",
            hint="check the permissions of the git directory",
        ) from None
    limit, started, delay = _wait_limit(), time.monotonic(), 0.02
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            pass
        except OSError as exc:
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                os.close(fd)
                raise
            os.close(fd)
            return _acquire_pidfile(path, limit)
        waited = time.monotonic() - started
        if waited >= limit:
            os.close(fd)
            raise _busy(path, waited)
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, _stamp(), 0)
    _held[path] = (fd, None)
    return path


def _acquire_pidfile(path: Path, limit: float) -> Path:
    """The fallback without ``flock``: ``<lock>.pid`` made with O_EXCL; stale by pid/age."""
    pidfile = path.with_name(path.name + ".pid")
    started = time.monotonic()
    while True:
        try:
            fd = os.open(pidfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            if _stale_pidfile(pidfile):
                with contextlib.suppress(FileNotFoundError):
                    pidfile.unlink()
                continue
            waited = time.monotonic() - started
            if waited >= limit:
                raise _busy(pidfile, waited) from None
            time.sleep(0.1)
            continue
        with os.fdopen(fd, "wb") as handle:
            handle.write(_stamp())
        _held[path] = (-1, pidfile)
        return path


def _stale_pidfile(pidfile: Path) -> bool:
    try:
        record = json.loads(pidfile.read_text(encoding="utf-8"))
        pid, since = int(record["pid"]), float(record["since"])
        start = record.get("start")
    except FileNotFoundError:
        return False
    except (OSError, ValueError, KeyError, TypeError):
        return True  # unreadable: cut by a kill while it was written
    if time.time() - since > STALE_AFTER:
        return True
    return not pid_alive(pid, start if isinstance(start, str) else None)


def release(root: Path) -> None:
    _release(lock_path_for(root))


def _release(path: Path) -> None:
    fd, pidfile = _held.pop(path, (-1, None))
    if pidfile is not None:
        with contextlib.suppress(OSError):
            pidfile.unlink()
    if fd >= 0:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the only descriptor drops the flock


def release_all() -> None:
    """Drop every lock this process holds (the CLI calls this when a command ends)."""
    for path in list(_held):
        _release(path)
    _noted.clear()


# Directories written while a lock was held: where recovery looks for the temp
# files of a write killed between create and rename.
_noted: set[Path] = set()


def _dirs_file(lock: Path) -> Path:
    return lock.with_name(lock.name + ".dirs")


def note_dir(directory: Path) -> None:
    """Remember ``directory`` (once per process) in the record next to each held lock."""
    directory = directory.absolute()
    if not _held or directory in _noted:
        return
    _noted.add(directory)
    for path in _held:
        with contextlib.suppress(OSError), open(_dirs_file(path), "a") as handle:
            handle.write(os.fsencode(directory).decode("utf-8", "surrogateescape") + "\n")


def noted_dirs(root: Path) -> list[Path]:
    try:
        text = _dirs_file(lock_path_for(root)).read_text("utf-8", "surrogateescape")
    except OSError:
        return []
    return [Path(line) for line in dict.fromkeys(text.splitlines()) if line]
