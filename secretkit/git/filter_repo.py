"""History rewriting with git-filter-repo ``--replace-text``, and the backup refs around it.

The expressions file necessarily holds the plaintext values to replace: it is the
one place where ``purge`` writes secrets to disk, at the user's explicit request.
It is created with mode 0600 inside a fresh 0700 directory (``tempfile.mkdtemp``),
overwritten with zeros and removed as soon as git-filter-repo returns, whatever
happened.  Its content is never logged: git-filter-repo's own output is captured
and only its last line is shown on failure, and that line cannot hold a value (the
tool prints ref names and counts, not blob content).

Only the refs passed in ``refs`` are rewritten (``--refs`` implies ``--partial``:
no reflog expiry, no gc, the ``origin`` remote is kept).  That is what keeps the
backup refs under :data:`BACKUP_NAMESPACE` pointing at the old commits.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from secretkit import signals
from secretkit.errors import UserError
from secretkit.git import git_env, run_git
from secretkit.sensitive import Sensitive

# What replaces each value.  "REDACTED" is a placeholder word to scanners (ours
# included), so a purged history scans clean instead of flagging `token = "<marker>"`.
MARKER = b"***REDACTED-BY-SECRETKIT***"
BACKUP_NAMESPACE = "refs/secretkit/backup/"
# Refs never rewritten: our backups, and what the remotes have (updated by the push).
_NOT_REWRITTEN = ("refs/secretkit/", "refs/remotes/")


def available() -> str | None:
    return shutil.which("git-filter-repo")


def list_refs(root: Path) -> dict[str, str]:
    """Every ref and the object it points at (``refname → sha``)."""
    proc = run_git(root, "for-each-ref", "--format=%(objectname) %(refname)")
    refs: dict[str, str] = {}
    for line in proc.stdout.decode("utf-8", "surrogateescape").splitlines():
        sha, _, name = line.partition(" ")
        refs[name] = sha
    return refs


def refs_to_rewrite(refs: Iterable[str]) -> list[str]:
    return sorted(r for r in refs if not r.startswith(_NOT_REWRITTEN))


def create_backup(root: Path, now: datetime | None = None) -> tuple[str, dict[str, str]]:
    """Point ``refs/secretkit/backup/<UTC timestamp>/…`` at every current ref and HEAD.

    Returns the backup prefix and the refs it created (``refname → sha``).  All refs
    are created in one ``update-ref --stdin`` transaction: all or none.
    """
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    existing = list_refs(root)
    prefix = BACKUP_NAMESPACE + stamp
    n = 1
    while any(r.startswith(prefix + "/") for r in existing):
        n += 1
        prefix = f"{BACKUP_NAMESPACE}{stamp}-{n}"
    created: dict[str, str] = {}
    for name, sha in existing.items():
        if name.startswith(BACKUP_NAMESPACE):
            continue
        created[f"{prefix}/{name.removeprefix('refs/')}"] = sha
    head = run_git(root, "rev-parse", "--verify", "-q", "HEAD^{commit}", check=False)
    if head.returncode == 0:
        created[f"{prefix}/HEAD"] = head.stdout.decode().strip()
    lines = "".join(f"create {name} {sha}\n" for name, sha in created.items())
    run_git(root, "update-ref", "--stdin", input=lines.encode())
    return prefix, created


def _regex_literal(value: bytes) -> bytes:
    """A Python bytes regex matching ``value`` exactly, on one line of the file."""
    escaped = re.escape(value)
    return escaped.replace(b"\\\n", b"\\n").replace(b"\\\r", b"\\r").replace(b"\n", b"\\n")


NAME_MARKER = b"REDACTED-BY-SECRETKIT"  # (in a path: no "*", which some systems refuse)


def name_markers(values: Iterable[bytes]) -> dict[bytes, bytes]:
    """What each of ``values`` (tokens in paths) becomes: ``REDACTED-BY-SECRETKIT-<n>``,
    ``n`` its rank, so that two files named after two tokens in one folder stay two
    files (and a file's text that names such a path names its new one)."""
    distinct = sorted({v for v in values if v}, key=lambda v: (-len(v), v))
    return {v: NAME_MARKER + b"-%d" % n for n, v in enumerate(distinct, 1)}


def renames(values: Sequence[bytes]) -> bytes:
    """The ``--paths-from-file`` file that takes ``values`` (tokens) out of every path
    holding one (:func:`name_markers`).  Renames alone filter nothing out:
    git-filter-repo keeps every other path as it is."""
    return b"".join(
        b"regex:" + _regex_literal(v) + b"==>" + marker + b"\n"
        for v, marker in name_markers(values).items()
    )


def expressions(
    values: Iterable[bytes],
    in_context: Iterable[tuple[bytes, bytes]] = (),
    named: Iterable[bytes] = (),
) -> bytes:
    """The ``--replace-text`` file: one expression per distinct value (replaced by
    :data:`MARKER` wherever it occurs), and one per text of ``in_context`` (``(text,
    replacement)``: a whole line that holds a value, replaced by that line with the
    marker in its place), longest first.

    Longest first so that a text containing another is replaced whole.  A line of
    ``in_context`` matches only as a whole line (``(?m)^…$``): the same text inside a
    longer line (HEAD's, with a ``# secretkit: allow`` after it) is another line.
    git-filter-repo applies all literals before all regexes; a line, or a text with a
    line break, can only be written as a regex, so when there is one, every expression
    is written as an exact regex to keep the longest-first order (a regex's replacement
    is a template: its backslashes are escaped).  A line that is exactly a value is
    that value, replaced wherever it occurs.  A token of ``named`` (in a path's name)
    becomes the name the path is given (:func:`name_markers`).
    """
    pairs = {v: MARKER for v in values if v}
    pairs.update(name_markers(named))
    in_context = [(text, new) for text, new in in_context if text and text not in pairs]
    whole = {text for text, _new in in_context}
    pairs.update(in_context)
    distinct = sorted(pairs, key=lambda v: (-len(v), v))
    as_regex = bool(whole) or any(b"\n" in v or b"\r" in v for v in distinct)
    lines = [
        (
            b"regex:"
            + (b"(?m)^" + _regex_literal(v) + b"$" if v in whole else _regex_literal(v))
            + b"==>"
            + _template(pairs[v])
            if as_regex
            else b"literal:" + v + b"==>" + pairs[v]
        )
        for v in distinct
    ]
    return b"".join(line + b"\n" for line in lines)


def _template(replacement: bytes) -> bytes:
    """``replacement`` as an ``re.sub`` template that gives it back exactly."""
    return replacement.replace(b"\\", b"\\\\").replace(b"\n", b"\\n").replace(b"\r", b"\\r")


def replace_text(
    root: Path,
    values: Sequence[Sensitive[bytes]],
    refs: Sequence[str],
    in_context: Sequence[tuple[Sensitive[bytes], Sensitive[bytes]]] = (),
    in_names: Sequence[Sensitive[bytes]] = (),
    mailmap: Sensitive[bytes] | None = None,
) -> None:
    """Rewrite ``refs`` so that every value in ``values`` becomes :data:`MARKER`,
    and every text of ``in_context`` its replacement (:func:`expressions`); every
    value of ``in_names`` is taken out of the paths that hold it (:func:`renames`);
    ``mailmap`` (git-filter-repo's ``--mailmap`` file) renames authors, committers
    and taggers.

    The caller has checked that the work tree is clean and made a backup; the
    work tree is reset to the rewritten HEAD by git-filter-repo.
    """
    tool = available()
    if tool is None:
        raise UserError(
            "git-filter-repo is not installed",
            hint="install it (apt install git-filter-repo, or pip install git-filter-repo)",
        )
    if not refs:
        return
    # A marker of an earlier run makes newer git-filter-repo versions ask on stdin
    # whether to continue that run; every purge is a fresh run.
    git_dir = run_git(root, "rev-parse", "--absolute-git-dir").stdout.decode().strip()
    with contextlib.suppress(OSError):
        os.unlink(os.path.join(git_dir, "filter-repo", "already_ran"))
    directory = tempfile.mkdtemp(prefix="secretkit-purge-")  # mode 0700
    path = os.path.join(directory, "expressions")
    data = expressions(
        (v.reveal() for v in values),
        ((t.reveal(), r.reveal()) for t, r in in_context),
        (v.reveal() for v in in_names),
    )
    names_path = os.path.join(directory, "paths")
    names = renames([v.reveal() for v in in_names])
    written = [(path, data)] + ([(names_path, names)] if names else [])
    mailmap_path = os.path.join(directory, "mailmap")
    if mailmap is not None and mailmap.reveal():
        written.append((mailmap_path, mailmap.reveal()))
    try:
        for where, text in written:
            fd = os.open(where, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(text)
        # Its own process group, so that an interruption (Ctrl-C, SIGTERM, SIGHUP)
        # stops it and the git processes it started, before the file is wiped.
        # (a signal that comes while it starts waits until it can be stopped)
        with signals.held() as release:
            child = subprocess.Popen(
                # --force: the fresh-clone check is replaced by ours (clean tree, backups).
                # The same expressions for file contents and for commit messages.
                [
                    tool,
                    "--force",
                    "--quiet",
                    "--replace-text",
                    path,
                    "--replace-message",
                    path,
                    *(["--paths-from-file", names_path] if names else []),
                    *(["--mailmap", mailmap_path] if mailmap_path in dict(written) else []),
                    # a commit whose only change was the secret stays (empty): the history
                    # keeps every commit and message, only the values change
                    "--prune-empty",
                    "never",
                    "--refs",
                    *refs,
                ],
                cwd=root,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=git_env(),
                start_new_session=True,
            )
            try:
                release()
                _, stderr = child.communicate()
            except BaseException:
                with contextlib.suppress(OSError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait()
                for pipe in (child.stdout, child.stderr):
                    if pipe is not None:
                        pipe.close()
                raise
    finally:
        for where, text in written:
            with contextlib.suppress(OSError), open(where, "r+b") as handle:
                handle.write(b"\0" * len(text))
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(OSError):
                os.unlink(where)
        with contextlib.suppress(OSError):
            os.rmdir(directory)
    if child.returncode != 0:
        lines = stderr.decode("utf-8", "replace").strip().splitlines()
        last = lines[-1] if lines else f"exit {child.returncode}"
        raise UserError(
            f"git-filter-repo failed: {last}",
            hint="history is unchanged or partly rewritten; the backup refs hold the old "
            "commits (git update-ref <branch> <backup ref> restores a branch)",
        )


def reachable_objects(root: Path, refs: Sequence[str] | None = None) -> set[str]:
    """Ids of every object reachable from ``refs`` — by default from every ref except
    secretkit's own backups (what ``git push --mirror`` would publish, minus those)."""
    if refs is None:
        args = [f"--exclude={BACKUP_NAMESPACE}*", "--all"]
    elif not refs:
        return set()
    else:
        args = list(refs)
    # A blob missing from the object store (a partial or damaged clone) is reachable
    # all the same: listed with a '?' (without --missing, rev-list stops at it).
    proc = run_git(root, "rev-list", "--objects", "--missing=print", *args, "--")
    return {
        line.split(b" ", 1)[0].lstrip(b"?").decode() for line in proc.stdout.splitlines() if line
    }


def blob_ids(root: Path, specs: Sequence[str]) -> dict[str, str]:
    """``<commit>:<path>`` → the blob id it names (specs that name no blob are left out)."""
    specs = list(dict.fromkeys(s for s in specs if "\n" not in s))
    if not specs:
        return {}
    request = b"".join(s.encode("utf-8", "surrogateescape") + b"\n" for s in specs)
    proc = run_git(root, "cat-file", "--batch-check=%(objectname) %(objecttype)", input=request)
    ids: dict[str, str] = {}
    # (a spec git cannot resolve is echoed back, its path's bytes as they are)
    lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
    for spec, line in zip(specs, lines, strict=False):
        parts = line.split(" ")
        if len(parts) == 2 and parts[1] == "blob":
            ids[spec] = parts[0]
    return ids
