"""Crash-safe writes.

:func:`write_atomic` writes one file (temp file in the same directory, fsync,
rename, fsync of the directory).  :class:`Transaction` groups many writes: before
a file is touched its old content (or its absence) is recorded in a journal
directory, so that a failure — or a kill at any moment — can be undone.  A
later run calls :func:`recover` first, which rolls back whatever an interrupted
transaction left, and then simply does the job again.

The journal lives inside ``.git/`` (or a private directory of the repository
when there is no git) with mode 0700/0600: its backups are copies of files
that are already in the work tree, never new plaintext.

:func:`recover` first takes the repository lock (:mod:`secretkit.repolock`), so
that only one writer reads and writes at a time and a live journal is never
mistaken for a crashed one (the journal also records its owner's pid).  It
removes the temp files of a write killed between create and rename, and it
restores every file it can: one the system refuses (immutable, read-only, disk
full) is named in :class:`RollbackIncomplete` and stays in the journal for the
next run.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import signal
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from secretkit import repolock, running
from secretkit.errors import UserError
from secretkit.lazy_re import lazy

JOURNAL_NAME = "secretkit-journal"
_MANIFEST = "manifest.jsonl"
_OWNER = "owner.json"
# What write_atomic leaves behind when killed between mkstemp and rename.
STRAY_TMP = lazy(r"^\..+\.[a-z0-9_]{8}\.tmp$")
_BLOCKED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

# Fault injection for the crash tests: with SECRETKIT_TEST_KILL_AFTER_WRITES=N the
# process dies (os._exit(137), like SIGKILL: no cleanup, no finally blocks) right
# after the N-th file write of a Transaction.  Read from the environment of the
# secretkit process only; nothing in a repository can set it.
_KILL_ENV = "SECRETKIT_TEST_KILL_AFTER_WRITES"
_writes_done = 0


def rolled_back() -> list[str]:
    """What to tell the user of the interrupted runs :func:`recover` rolled back for
    this command (once: the list is emptied)."""
    said = []
    for command, files in running.rolled_back:
        run = f"`{command} …` had been" if isinstance(command, str) else "a secretkit run was"
        # (the same command run again does the whole job itself)
        again = (
            "this run did its job again"
            if command == running.command
            else ("run it again to finish it")
        )
        said.append(
            f"note: {run} interrupted; its changes were rolled back before this run "
            f"({', '.join(sorted(files))} restored): {again}"
        )
    running.rolled_back.clear()
    return said


def _maybe_die() -> None:
    global _writes_done
    limit = os.environ.get(_KILL_ENV)
    if not limit:
        return
    _writes_done += 1
    if limit.isdigit() and _writes_done >= int(limit):
        os._exit(137)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomic(path: Path | str, data: bytes, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` atomically.

    The file keeps its current permission bits unless ``mode`` is given; a new
    file gets ``mode`` or 0644 (0600 is the caller's choice for private files).
    """
    target = Path(path)
    directory = target.parent
    directory.mkdir(parents=True, exist_ok=True)
    if mode is None:
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            mode = 0o644
    repolock.note_dir(directory)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError) and exc.filename is None:  # name the file (disk full)
            raise OSError(exc.errno, exc.strerror, str(target)) from exc
        raise
    _fsync_dir(directory)


def journal_dir_for(root: Path) -> Path:
    """Where the journal of a repository lives (inside ``.git`` when there is one)."""
    git = repolock.git_dir_of(root)
    return git / JOURNAL_NAME if git is not None else root / f".{JOURNAL_NAME}"


def refuse_links(root: Path, path: Path) -> None:
    """Refuse a write below ``root`` that would go through a symbolic link (``secrets/``
    or ``.sops.yaml`` pointing elsewhere, possibly outside the repository) or that
    lands outside ``root``."""
    base = root.absolute()
    target = Path(path).absolute()
    try:
        parts = target.relative_to(base).parts
    except ValueError:
        raise UserError(
            f"refusing to write {target}: it is outside the repository {base}",
            hint="report this: a host or file name should never lead outside",
        ) from None
    current = base
    for part in parts:
        current = current / part
        if current.is_symlink():
            rel = current.relative_to(base).as_posix()
            raise UserError(
                f"refusing to write through {rel}: it is a symbolic link "
                f"(to {os.readlink(current)})",
                hint=f"replace {rel} with a real {'directory' if part != parts[-1] else 'file'} "
                "in the repository and retry",
            )


class Transaction:
    """Write several files so that either all changes land or none do.

    >>> with Transaction(repo_root) as txn:       # doctest: +SKIP
    ...     txn.write(repo_root / "a.nix", b"...")
    ...     txn.write(repo_root / "secrets/x.yaml", b"...")

    An exception inside the block restores every file.  A kill leaves the
    journal behind; :func:`recover` (called by every writing command before it
    starts) restores the files from it.
    """

    def __init__(self, root: Path, journal: Path | None = None) -> None:
        self.root = root
        self.journal = journal or journal_dir_for(root)
        self._count = 0
        self._touched: set[Path] = set()
        self._active = False
        self._own_lock = False

    # -- context manager -------------------------------------------------
    def __enter__(self) -> Transaction:
        self._own_lock = not repolock.is_held(self.root)
        recover(self.root, self.journal)  # takes the repository lock
        try:
            self.journal.mkdir(mode=0o700, parents=True, exist_ok=False)
            owner = {
                "pid": os.getpid(),
                "start": repolock.process_start(os.getpid()),
                "command": running.command,  # (which run to finish: pending)
            }
            write_atomic(self.journal / _OWNER, json.dumps(owner).encode(), 0o600)
            (self.journal / _MANIFEST).touch(mode=0o600)
        except BaseException as exc:
            shutil.rmtree(self.journal, ignore_errors=True)
            self._unlock()
            if isinstance(exc, OSError):
                raise UserError(
                    f"cannot write the journal {describe_os_error(exc, self.root)}; "
                    "nothing was changed",
                    hint=os_error_hint(exc),
                ) from exc
            raise
        self._active = True
        return self

    def _unlock(self) -> None:
        if self._own_lock:  # a command that locked before us releases when it ends
            repolock.release(self.root)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._active = False
        try:
            if exc_type is None:
                self.commit()
                return
            recover(self.root, self.journal, failure=exc)
        finally:
            self._unlock()
        if isinstance(exc, OSError):
            raise UserError(
                f"cannot write {describe_os_error(exc, self.root)}; every change of this "
                "run was rolled back",
                hint=os_error_hint(exc),
            ) from exc

    # -- operations -----------------------------------------------------------
    def write(self, path: Path, data: bytes, mode: int | None = None) -> None:
        """Journal the old state of ``path`` (once), then write ``data`` atomically."""
        if not self._active:
            raise RuntimeError("Transaction.write outside of the with-block")
        path = Path(path).absolute()
        refuse_links(self.root, path)
        if path not in self._touched:
            self._record(path)
            self._touched.add(path)
        self._intend(path, hashlib.sha256(data).hexdigest())
        write_atomic(path, data, mode)
        _maybe_die()

    def remove(self, path: Path) -> None:
        """Journal and delete ``path``."""
        if not self._active:
            raise RuntimeError("Transaction.remove outside of the with-block")
        path = Path(path).absolute()
        if path not in self._touched:
            self._record(path)
            self._touched.add(path)
        self._intend(path, None)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            _fsync_dir(path.parent)
        _maybe_die()

    @property
    def touched(self) -> frozenset[Path]:
        return frozenset(self._touched)

    def commit(self) -> None:
        """Forget the journal: the new state is final."""
        manifest = self.journal / _MANIFEST
        with contextlib.suppress(FileNotFoundError):
            manifest.unlink()
        shutil.rmtree(self.journal, ignore_errors=True)
        _fsync_dir(self.journal.parent)

    def _where(self, path: Path) -> str:
        # inside the repository: relative to it, so that a repository moved after a kill
        # is rolled back where it is now, never at its old place
        try:
            return str(path.absolute().relative_to(self.root.absolute()))
        except ValueError:
            return str(path.absolute())

    def _record(self, path: Path) -> None:
        self._count += 1
        entry: dict[str, object] = {"path": self._where(path)}
        if path.exists():
            backup = self.journal / f"backup-{self._count}"
            write_atomic(backup, path.read_bytes(), 0o600)
            entry["backup"] = backup.name
            entry["mode"] = stat.S_IMODE(path.stat().st_mode)
        self._append(entry)

    def _intend(self, path: Path, digest: str | None) -> None:
        """Note what ``path`` is about to hold (None: nothing), before it is written: a
        rollback leaves alone a file that holds something else by then (changed since
        the interrupted run: committed, edited), :func:`_roll_back`."""
        self._append({"path": self._where(path), "intent": digest})

    def _append(self, entry: dict[str, object]) -> None:
        with open(self.journal / _MANIFEST, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def _entries(journal: Path) -> Iterator[dict[str, object]]:
    manifest = journal / _MANIFEST
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut by a kill: its target was not written yet
        # (an "intent" line is what a write was about to make: _intents)
        if isinstance(entry, dict) and isinstance(entry.get("path"), str) and "intent" not in entry:
            yield entry


def _intents(journal: Path) -> dict[str, set[str | None]]:
    """For each journaled path, what the interrupted run was about to make it hold (a
    sha256 of the bytes, None for nothing); a journal of an older secretkit has none."""
    out: dict[str, set[str | None]] = {}
    manifest = journal / _MANIFEST
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return out
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("path"), str) and "intent" in entry:
            digest = entry["intent"]
            out.setdefault(entry["path"], set()).add(digest if isinstance(digest, str) else None)
    return out


def _digest(path: Path) -> str | None:
    """The sha256 of ``path``'s bytes, None when it does not exist."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def changed_since(root: Path, journal: Path) -> list[str]:
    """The journaled files that hold neither what they held before the interrupted run
    nor what it wrote (or was about to write) there: changed since, by hand or by
    git (a checkout, a commit amended), so a rollback would overwrite that."""
    intents = _intents(journal)
    out = []
    for entry in _entries(journal):
        wanted = intents.get(str(entry["path"]))
        if wanted is None:
            continue  # (an older journal: nothing to compare with)
        target = _target(root, entry)
        backup = entry.get("backup")
        before = _digest(journal / backup) if isinstance(backup, str) else None
        now = _digest(target)
        if now != before and now not in wanted:
            out.append(_rel(root, target))
    return out


def pending(root: Path) -> dict[str, object] | None:
    """What an interrupted run left (its journal): ``command`` (the words it was run
    with, or None), ``files`` (the paths it had begun to change), ``pid`` (of its owner
    when that process still runs); None when no journal is there."""
    journal = journal_dir_for(root)
    if not journal.is_dir():
        return None
    live = _live_owner(journal)
    files = sorted({_rel(root, _target(root, e)) for e in _entries(journal)})
    if not files and live is None:
        return None  # (no file was changed, or the run committed: its manifest goes first)
    try:
        owner = json.loads((journal / _OWNER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        owner = {}
    command = owner.get("command") if isinstance(owner, dict) else None
    return {"command": command if isinstance(command, str) else None, "files": files, "pid": live}


def _rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root.absolute()).as_posix()
    except ValueError:
        return str(path)


def describe_os_error(exc: OSError, root: Path | None = None) -> str:
    """``<what> <path>: <reason>`` for an OS error (a temp file is named by its target)."""
    name = exc.filename2 if exc.filename2 is not None else exc.filename
    reason = exc.strerror or type(exc).__name__
    if name is None:
        return reason
    path = Path(os.fsdecode(name))
    match = STRAY_TMP.match(path.name)
    if match:
        path = path.parent / path.name[1:].rsplit(".", 2)[0]
    shown = _rel(root, path.absolute()) if root is not None else str(path)
    return f"{shown}: {reason}"


def os_error_hint(exc: OSError) -> str:
    """What the user can do about an OS error."""
    return {
        errno.ENOSPC: "free some disk space and retry",
        errno.EDQUOT: "free some space (disk quota) and retry",
        errno.EROFS: "the filesystem is mounted read-only: remount it read-write and retry",
        errno.EACCES: "check the file and directory permissions and retry",
        errno.EPERM: "the file may be immutable (lsattr; chattr -i FILE) or not yours",
        errno.ENAMETOOLONG: "use a shorter path",
        errno.EMFILE: "too many open files: raise the limit (ulimit -n) and retry",
    }.get(exc.errno or 0, "fix the cause and retry")


class RollbackIncomplete(UserError):
    """Some files of an interrupted transaction could not be restored (exit 3)."""


def _clean_stray_temps(root: Path, journal: Path) -> list[Path]:
    """Remove what :func:`write_atomic` left when killed between create and rename."""
    directories = {root.absolute(), *repolock.noted_dirs(root)}
    directories.update(_target(root, e).parent for e in _entries(journal))
    removed: list[Path] = []
    for directory in directories:
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            if not STRAY_TMP.match(name):
                continue
            path = directory / name
            with contextlib.suppress(OSError):
                if stat.S_ISREG(path.lstat().st_mode):
                    path.unlink()
                    removed.append(path)
    return removed


def _live_owner(journal: Path) -> int | None:
    """The pid of another running process that owns ``journal``, else None."""
    try:
        owner = json.loads((journal / _OWNER).read_text(encoding="utf-8"))
        pid, start = int(owner["pid"]), owner.get("start")
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pid == os.getpid():
        return None
    return pid if repolock.pid_alive(pid, start if isinstance(start, str) else None) else None


def recover(
    root: Path, journal: Path | None = None, *, failure: BaseException | None = None
) -> list[Path]:
    """Take the repository lock, roll back an interrupted transaction, return the paths
    restored.

    Every file that can be restored is; the ones that cannot (read-only, immutable,
    disk full) stay in the journal, and :class:`RollbackIncomplete` names each with
    its reason, so that the next run, once they are fixed, finishes the job.  A
    journal whose owner is still running is never touched.  Signals are held back
    while files are restored (they are delivered right after).
    """
    journal = journal or journal_dir_for(root)
    repolock.acquire(root)
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _BLOCKED)
    try:
        _clean_stray_temps(root, journal)
        if not journal.exists():
            return []
        owner = _live_owner(journal)
        if owner is not None:
            raise UserError(
                f"another secretkit process (pid {owner}) is writing this repository",
                hint="wait for it to finish and retry",
            )
        left = pending(root) if failure is None and journal == journal_dir_for(root) else None
        restored = _roll_back(root, journal, failure)
        if left is not None and restored:  # (said when the command ends: rolled_back)
            running.rolled_back.append((left.get("command"), [_rel(root, p) for p in restored]))
        return restored
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)


def _same(target: Path, data: bytes, mode: object) -> bool:
    try:
        return target.read_bytes() == data and (
            not isinstance(mode, int) or stat.S_IMODE(target.stat().st_mode) == mode
        )
    except OSError:
        return False


def _target(root: Path, entry: dict[str, object]) -> Path:
    """The file an entry is about: recorded relative to the repository (an absolute
    path from an older journal, or outside the repository, as it is)."""
    path = Path(str(entry["path"]))
    return path if path.is_absolute() else root.absolute() / path


def _undo(root: Path, journal: Path, entry: dict[str, object]) -> None:
    """Put one journaled file back (OSError when the system refuses)."""
    target = _target(root, entry)
    backup = entry.get("backup")
    if not isinstance(backup, str):
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        return
    mode = entry.get("mode")
    data = (journal / backup).read_bytes()
    if not _same(target, data, mode):  # e.g. the very write that failed
        write_atomic(target, data, mode if isinstance(mode, int) else None)


class ChangedSince(UserError):
    """The files of an interrupted run changed since it was killed: not rolled back."""


def _roll_back(root: Path, journal: Path, failure: BaseException | None) -> list[Path]:
    if failure is None:  # (a run's own failure undoes what it just wrote, always)
        changed = changed_since(root, journal)
        if changed:
            raise ChangedSince(
                f"an interrupted secretkit run left its journal, but {', '.join(changed)} "
                "changed since (edited, or checked out from a commit): rolling it back "
                "would overwrite that, so nothing was rolled back",
                hint=f"the files as they were before that run are in {journal} (the "
                "backup-N files its manifest.jsonl names); once the work tree holds what "
                f"you want, remove the journal (rm -r {journal}) and run the command again",
            )
    restored: list[Path] = []
    problems: list[str] = []
    pending: list[dict[str, object]] = []
    for entry in reversed(list(_entries(journal))):
        backup = entry.get("backup")
        if isinstance(backup, str) and not (journal / backup).exists():
            target = _rel(root, _target(root, entry))
            problems.append(f"{target} (its backup in the journal is missing)")
        else:
            pending.append(entry)
    # Newest first; then again for what failed, while that helps (a removed new file
    # may have freed the space another restore needs).
    errors: dict[int, OSError] = {}
    while pending:
        failed = []
        for entry in pending:
            try:
                _undo(root, journal, entry)
            except OSError as exc:
                errors[id(entry)] = exc
                failed.append(entry)
                continue
            restored.append(_target(root, entry))
        if len(failed) == len(pending):
            break
        pending = failed
    left = pending
    for entry in left:
        error = errors[id(entry)]
        target = _rel(root, _target(root, entry))
        problems.append(f"{target} ({error.strerror or type(error).__name__})")
    if not problems:
        shutil.rmtree(journal, ignore_errors=True)
        _fsync_dir(journal.parent)
        return restored
    # Keep exactly what is left to undo, so the next run finishes the rollback.
    lines = "".join(json.dumps(e) + "\n" for e in reversed(left))
    with contextlib.suppress(OSError):
        write_atomic(journal / _MANIFEST, lines.encode(), 0o600)
    with contextlib.suppress(OSError):
        (journal / _OWNER).unlink()
    cause = ""
    if isinstance(failure, OSError):
        cause = f"cannot write {describe_os_error(failure, root)}; "
    raise RollbackIncomplete(
        f"{cause}rollback incomplete: could not restore {', '.join(problems)}; "
        f"{len(restored)} other file(s) were restored",
        hint="make those files writable (immutable? `chattr -i FILE`; full disk? free "
        "space) and run the command again: it finishes the rollback from the journal in "
        f"{journal}",
    )
