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
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from secretkit.errors import UserError

JOURNAL_NAME = "secretkit-journal"
_MANIFEST = "manifest.jsonl"

# Fault injection for the crash tests: with SECRETKIT_TEST_KILL_AFTER_WRITES=N the
# process dies (os._exit(137), like SIGKILL: no cleanup, no finally blocks) right
# after the N-th file write of a Transaction.  Read from the environment of the
# secretkit process only; nothing in a repository can set it.
_KILL_ENV = "SECRETKIT_TEST_KILL_AFTER_WRITES"
_writes_done = 0


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
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(directory)


def journal_dir_for(root: Path) -> Path:
    """Where the journal of a repository lives (inside ``.git`` when there is one)."""
    git = root / ".git"
    if git.is_dir():
        return git / JOURNAL_NAME
    if git.is_file():  # worktree or submodule: "gitdir: <path>"
        text = git.read_text(encoding="utf-8", errors="replace").strip()
        if text.startswith("gitdir:"):
            gitdir = Path(text.split(":", 1)[1].strip())
            if not gitdir.is_absolute():
                gitdir = (root / gitdir).resolve()
            return gitdir / JOURNAL_NAME
    return root / f".{JOURNAL_NAME}"


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

    # -- context manager -------------------------------------------------
    def __enter__(self) -> Transaction:
        recover(self.root, self.journal)
        self.journal.mkdir(mode=0o700, parents=True, exist_ok=False)
        (self.journal / _MANIFEST).touch(mode=0o600)
        self._active = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._active = False
        if exc_type is None:
            self.commit()
        else:
            recover(self.root, self.journal)

    # -- operations -----------------------------------------------------------
    def write(self, path: Path, data: bytes, mode: int | None = None) -> None:
        """Journal the old state of ``path`` (once), then write ``data`` atomically."""
        if not self._active:
            raise RuntimeError("Transaction.write outside of the with-block")
        path = Path(path).absolute()
        if path not in self._touched:
            self._record(path)
            self._touched.add(path)
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

    def _record(self, path: Path) -> None:
        self._count += 1
        entry: dict[str, object] = {"path": str(path)}
        if path.exists():
            backup = self.journal / f"backup-{self._count}"
            write_atomic(backup, path.read_bytes(), 0o600)
            entry["backup"] = backup.name
            entry["mode"] = stat.S_IMODE(path.stat().st_mode)
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
        if isinstance(entry, dict) and isinstance(entry.get("path"), str):
            yield entry


def recover(root: Path, journal: Path | None = None) -> list[Path]:
    """Roll back an interrupted transaction; return the paths restored."""
    journal = journal or journal_dir_for(root)
    if not journal.exists():
        return []
    restored: list[Path] = []
    for entry in reversed(list(_entries(journal))):
        target = Path(str(entry["path"]))
        backup = entry.get("backup")
        if isinstance(backup, str):
            source = journal / backup
            if not source.exists():
                raise UserError(
                    f"the journal in {journal} is damaged: backup of {target} is missing",
                    hint="restore the file from git, then delete the journal directory",
                )
            mode = entry.get("mode")
            write_atomic(target, source.read_bytes(), mode if isinstance(mode, int) else None)
        else:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
        restored.append(target)
    shutil.rmtree(journal, ignore_errors=True)
    _fsync_dir(journal.parent)
    return restored
