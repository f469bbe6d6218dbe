"""Reading what the scanner needs from git: file lists, index blobs, history blobs.

Everything is plumbing (``ls-files``, ``cat-file --batch``, ``rev-list``,
``diff-tree --stdin``), one process per question, never one per blob.  The
index honours ``GIT_INDEX_FILE`` (see :func:`secretkit.git.git_env`).
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from secretkit.errors import UserError
from secretkit.git import _SAFE, git_env, run_git

REGULAR_MODES = frozenset({"100644", "100755"})


def _paths(output: bytes) -> list[str]:
    return [p.decode("utf-8", "surrogateescape") for p in output.split(b"\0") if p]


def tracked_and_untracked(root: Path, paths: Iterable[str] = ()) -> list[str]:
    """Tracked files plus untracked files that are not ignored, repo-relative."""
    proc = run_git(
        root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *paths
    )
    return sorted(set(_paths(proc.stdout)))


def untracked(root: Path, paths: Iterable[str] = ()) -> list[str]:
    """Untracked files that are not ignored."""
    proc = run_git(root, "ls-files", "-z", "--others", "--exclude-standard", "--", *paths)
    return _paths(proc.stdout)


@dataclass(frozen=True)
class IndexEntry:
    path: str
    mode: str
    oid: str
    stage: int


def index_entries(root: Path, paths: Iterable[str] = ()) -> list[IndexEntry]:
    """What the index holds (``GIT_INDEX_FILE`` honoured), regular files only."""
    proc = run_git(root, "ls-files", "-z", "--stage", "--", *paths)
    entries = []
    for record in proc.stdout.split(b"\0"):
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        mode, oid, stage = meta.decode().split(" ")
        if mode not in REGULAR_MODES:
            continue  # symlinks and submodules hold no file content
        entries.append(IndexEntry(name.decode("utf-8", "surrogateescape"), mode, oid, int(stage)))
    return entries


def object_sizes(root: Path, oids: Iterable[str]) -> dict[str, int]:
    """Size of every blob among ``oids`` (one ``cat-file --batch-check``)."""
    wanted = list(dict.fromkeys(oids))
    if not wanted:
        return {}
    request = "".join(f"{oid}\n" for oid in wanted).encode()
    proc = run_git(
        root,
        "cat-file",
        "--batch-check=%(objectname) %(objecttype) %(objectsize)",
        input=request,
    )
    sizes = {}
    for line in proc.stdout.decode().splitlines():
        parts = line.split(" ")
        if len(parts) == 3 and parts[1] == "blob":
            sizes[parts[0]] = int(parts[2])
    return sizes


def read_blobs(root: Path, oids: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """``(oid, content)`` for each blob, streamed from one ``cat-file --batch``."""
    for oid, _size, data in read_blobs_limited(root, oids):
        if data is not None:
            yield oid, data


def read_blobs_limited(
    root: Path, oids: Iterable[str], limit: int | None = None
) -> Iterator[tuple[str, int, bytes | None]]:
    """``(oid, size, content)`` for each blob from one ``cat-file --batch``; the
    content is None (and never held in memory) when the blob is larger than ``limit``."""
    wanted = list(dict.fromkeys(oids))
    if not wanted:
        return
    try:
        proc = subprocess.Popen(
            ["git", *_SAFE, "cat-file", "--batch"],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=git_env(),
        )
    except FileNotFoundError as exc:
        raise UserError("git is not installed", hint="install git and retry") from exc
    assert proc.stdin is not None and proc.stdout is not None

    def feed() -> None:
        try:
            for oid in wanted:
                proc.stdin.write(f"{oid}\n".encode())  # type: ignore[union-attr]
            proc.stdin.close()  # type: ignore[union-attr]
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    out = proc.stdout
    try:
        for _ in wanted:
            header = out.readline()
            if not header:
                break
            parts = header.split()
            if len(parts) != 3:
                continue  # "<oid> missing"
            size = int(parts[2])
            if limit is not None and size > limit:
                remaining = size + 1
                while remaining:
                    chunk = out.read(min(remaining, 1 << 20))
                    if not chunk:
                        break
                    remaining -= len(chunk)
                data = None
            else:
                data = out.read(size)
                out.read(1)
            if parts[1] == b"blob":
                yield parts[0].decode(), size, data
    finally:
        out.close()
        proc.wait()
        writer.join()


def read_blob(root: Path, oid: str) -> bytes | None:
    for _, data in read_blobs(root, [oid]):
        return data
    return None


@dataclass(frozen=True)
class HistoryBlob:
    """A blob of the history: the oldest commit seen adding it, and its path there."""

    oid: str
    commit: str
    path: str


def ref_tips(root: Path) -> str:
    """HEAD and every ref but ``refs/secretkit/*`` with what it points to, one per line:
    equal output means an equal history (cheap next to a rev-list)."""
    proc = run_git(root, "show-ref", "--head", check=False)
    lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
    return "\n".join(sorted(line for line in lines if " refs/secretkit/" not in line))


def history_commits(root: Path) -> list[str]:
    """Every commit reachable from any ref but ``refs/secretkit/*``, newest first."""
    revs = run_git(root, "rev-list", "--exclude=refs/secretkit/*", "--all", check=False)
    if revs.returncode != 0:
        return []
    return revs.stdout.decode().split()


def history_blobs(root: Path, commits: list[str] | None = None) -> list[HistoryBlob]:
    """Every distinct blob added or modified by any commit reachable from any ref
    (merges included, against each parent), once, with a commit and path that hold it.

    ``refs/secretkit/*`` — the local backups ``purge`` keeps of the history it
    rewrote — are left out: they exist to hold the old secrets until the user drops
    them, and are never pushed by ``git push --all``/``--tags``.  ``commits`` (newest
    first) limits the walk to those commits."""
    listed = history_commits(root) if commits is None else commits
    if not listed:
        return []
    proc = run_git(
        root,
        "diff-tree",
        "--stdin",
        "-r",
        "--root",
        "-m",
        "-z",
        "--no-renames",
        "--no-ext-diff",
        "--diff-filter=AMT",
        input="".join(f"{c}\n" for c in listed).encode(),
    )
    found: dict[str, HistoryBlob] = {}
    tokens = proc.stdout.split(b"\0")
    commit = ""
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.startswith(b":"):
            meta = token[1:].split(b" ")
            name = tokens[i + 1].decode("utf-8", "surrogateescape") if i + 1 < len(tokens) else ""
            i += 2
            if len(meta) < 5 or meta[1].decode() not in REGULAR_MODES:
                continue
            oid = meta[3].decode()
            # rev-list lists newest first: the last commit seen is the oldest.
            found[oid] = HistoryBlob(oid, commit, name)
        else:
            if token.strip():
                commit = token.decode().strip()
            i += 1
    return list(found.values())


def root_commits(root: Path) -> list[str]:
    """The parentless commits reachable from HEAD (empty before the first commit)."""
    proc = run_git(root, "rev-list", "--max-parents=0", "HEAD", "--", check=False)
    if proc.returncode != 0:
        return []
    return sorted(proc.stdout.decode().split())


def ls_files(root: Path, paths: Iterable[str] = ()) -> list[str]:
    """Tracked files (the index), repo-relative."""
    return _paths(run_git(root, "ls-files", "-z", "--", *paths).stdout)


def index_blobs(root: Path, paths: Iterable[str] = ()) -> dict[str, bytes]:
    """``path → content`` of the regular files in the index (as they will be committed)."""
    entries = index_entries(root, paths)
    blobs = dict(read_blobs(root, (e.oid for e in entries)))
    return {e.path: blobs[e.oid] for e in entries if e.oid in blobs}


def head(root: Path) -> str | None:
    """The commit HEAD points at, or None before the first commit."""
    proc = run_git(root, "rev-parse", "--verify", "-q", "HEAD", check=False)
    return proc.stdout.decode().strip() or None if proc.returncode == 0 else None


def is_dirty(root: Path) -> bool:
    """Whether the work tree or the index differ from HEAD (untracked files count)."""
    proc = run_git(root, "status", "--porcelain", "-z", "--untracked-files=normal")
    return bool(proc.stdout)
