"""``secretkit edit FILE``: decrypt into a private temp file, run the editor, re-encrypt.

* The plaintext lives in a fresh ``mkdtemp`` directory (mode 0700) as a 0600 file
  named like the original (so the editor picks the syntax); the directory is
  removed afterwards in every case (errors, editor failure, Ctrl-C).
* ``$SOPS_EDITOR``, else ``$VISUAL``, else ``$EDITOR``, else the first of vim, nano,
  vi on PATH; split like a shell word list (so ``code --wait`` works).
* Unchanged content → the file is left byte for byte as it was.  Changed content →
  re-encrypted with the same data key; unchanged values keep their ciphertext (IV
  reuse, like sops), ``lastmodified`` and the MAC are renewed, ``version`` is
  raised to ours when older (``sops edit`` does the same).
* A file that does not exist is created from its ``.sops.yaml`` creation rule.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit import signals
from secretkit.commands import Line, Shown, err
from secretkit.errors import SecretkitError, UserError
from secretkit.sops.engine import Engine, PythonEngine

if TYPE_CHECKING:
    from secretkit.sops.document import PlainFile


@dataclass(frozen=True)
class EditResult(Shown):
    path: Path
    status: str  # "unchanged" | "updated" | "created"
    name: str = ""  # FILE as given

    def lines(self) -> list[Line]:
        return [err(f"{self.name}: no changes")] if self.status == "unchanged" else []


def run_editor(
    content: bytes,
    name: str,
    env: Mapping[str, str],
    tmp_root: Path | None = None,
) -> bytes:
    """Let the user edit ``content`` in a private temp file; return the new bytes."""
    editor = env.get("SOPS_EDITOR") or env.get("VISUAL") or env.get("EDITOR")
    if not editor:  # like sops: the first of vim, nano, vi on PATH
        editor = next((name for name in ("vim", "nano", "vi") if shutil.which(name)), "")
        if not editor:
            raise UserError("no editor found", hint="set $EDITOR (e.g. export EDITOR=nano)")
    try:
        argv = shlex.split(editor)
    except ValueError:
        raise UserError("$EDITOR/$VISUAL cannot be parsed as a command line") from None
    if not argv:
        raise UserError("$EDITOR/$VISUAL is empty", hint="export EDITOR=vi (or your editor)")
    directory = tempfile.mkdtemp(prefix="secretkit-edit-", dir=tmp_root)
    try:
        os.chmod(directory, 0o700)
        temp = Path(directory) / (name or "file")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        # Ctrl-C, SIGTERM and SIGHUP wait while the editor starts: a signal handled inside
        # Popen (after the fork, before ``proc`` is known) would leave the editor running.
        with signals.held() as release:
            try:
                proc = subprocess.Popen([*argv, str(temp)], env=dict(env))
            except FileNotFoundError:
                raise UserError(
                    f"editor {argv[0]!r} not found", hint="set $EDITOR to an installed editor"
                ) from None
            try:
                release()  # (a signal that came meanwhile is handled here)
                returncode = proc.wait()
            except BaseException:  # stop the editor before the plaintext is removed
                proc.kill()
                proc.wait()
                raise
        if returncode != 0:
            raise UserError(
                f"the editor exited with status {returncode}; nothing was saved",
                hint="run edit again",
            )
        return temp.read_bytes()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def edit(
    cwd: Path,
    file: Path | str,
    *,
    engine: Engine | None = None,
    env: Mapping[str, str] | None = None,
    tmp_root: Path | None = None,
) -> EditResult:
    from secretkit import repolock
    from secretkit.commands import recover_interrupted
    from secretkit.sops import operations

    environ = os.environ if env is None else env
    root = recover_interrupted(cwd)
    path = operations.resolve(cwd, file)
    source = operations.display(cwd, path)

    def editor(original: bytes, before: bytes | None, fmt: str) -> PlainFile | None:
        repolock.release(root)  # the editor may stay open for hours
        edited = run_editor(original, path.name, environ, tmp_root)
        if edited == original:
            return None
        _relock_unchanged(cwd, root, path, before, edited, source)
        return _parse_edited(edited, fmt, source, root, path)

    status = (engine or PythonEngine(cwd)).edit(path, editor)
    return EditResult(path=path, status=status, name=str(file))


def keep_edits(root: Path, path: Path, edited: bytes) -> Path:
    """Save ``edited`` (plaintext) in a 0600 file of a private 0700 directory next to the
    repository lock (inside the git directory, never in the work tree)."""
    from datetime import UTC, datetime

    from secretkit import repolock

    directory = repolock.lock_path_for(root).parent / "kept"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    fd, name = tempfile.mkstemp(prefix=f"{path.name}.{stamp}.", dir=directory)
    with os.fdopen(fd, "wb") as handle:  # mkstemp: mode 0600
        handle.write(edited)
        handle.flush()
        os.fsync(handle.fileno())
    return Path(name)


def _relock_unchanged(
    cwd: Path, root: Path, path: Path, before: bytes | None, edited: bytes, source: str
) -> None:
    """Take the lock again and make sure nobody changed ``path`` while the editor ran
    (a rotation, another edit): writing now would undo their change."""
    from secretkit.commands import recover_interrupted

    recover_interrupted(cwd)
    try:
        now: bytes | None = path.read_bytes()
    except FileNotFoundError:
        now = None
    if now == before:
        return
    kept = keep_edits(root, path, edited)
    raise UserError(
        f"{source} changed while the editor was open; nothing was saved, your edited "
        f"text is kept in {kept} (mode 0600, plaintext)",
        hint=f"run `secretkit edit {source}` again, re-apply your changes, then delete {kept}",
    )


def _parse_edited(edited: bytes, fmt: str, source: str, root: Path, path: Path) -> PlainFile:
    from secretkit.sops import document

    try:
        return document.load_plain(edited, fmt)
    except (SecretkitError, RecursionError) as exc:
        why = exc.message if isinstance(exc, SecretkitError) else "nested too deeply"
        kept = keep_edits(root, path, edited)
        raise UserError(
            f"the edited content of {source} is not valid ({why}); nothing was "
            f"saved, your edited text is kept in {kept} (mode 0600, plaintext)",
            hint=f"fix the syntax there, then `secretkit edit {source}` and paste it; "
            f"delete {kept} when done",
        ) from None
