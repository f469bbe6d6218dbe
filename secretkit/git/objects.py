"""Reading what the scanner needs from git: file lists, index blobs, history blobs.

Everything is plumbing (``ls-files``, ``cat-file --batch``, ``rev-list``,
``diff-tree --stdin``), one process per question, never one per blob.  The
index honours ``GIT_INDEX_FILE`` (see :func:`secretkit.git.git_env`).
"""

from __future__ import annotations

import functools
import re
import shlex
import subprocess
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from secretkit.errors import HistoryUnreadable
from secretkit.git import git_dir, popen_git, run_git, take_early

REGULAR_MODES = frozenset({"100644", "100755"})
# What the scanner reads: files, and symlinks (git stores a link's target as its blob).
SCANNED_MODES = REGULAR_MODES | {"120000"}


def _paths(output: bytes) -> list[str]:
    return [p.decode("utf-8", "surrogateescape") for p in output.split(b"\0") if p]


def tracked_and_untracked(root: Path, paths: Iterable[str] = ()) -> list[str]:
    """Tracked files plus untracked files that are not ignored, repo-relative."""
    proc = run_git(
        root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *paths
    )
    return sorted(set(_paths(proc.stdout)))


def skip_worktree(root: Path, paths: Iterable[str]) -> set[str]:
    """Those of ``paths`` (tracked, repo-relative) a sparse checkout keeps out of the
    work tree (``git ls-files -t`` tag ``S``: the skip-worktree bit)."""
    wanted = [p for p in paths if p]
    if not wanted:
        return set()
    proc = run_git(root, "ls-files", "-z", "-t", "--cached", "--", *wanted)
    return {p[2:] for p in _paths(proc.stdout) if p.startswith("S ")}


def ignored(root: Path, paths: Iterable[str]) -> set[str]:
    """Those of ``paths`` (repo-relative) that the repository's ignore rules exclude."""
    wanted = [p for p in paths if p]
    if not wanted:
        return set()
    request = b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in wanted)
    proc = run_git(root, "check-ignore", "-z", "--stdin", input=request, check=False)
    return set(_paths(proc.stdout))


def untracked(root: Path, paths: Iterable[str] = ()) -> list[str]:
    """Untracked files that are not ignored."""
    proc = run_git(root, "ls-files", "-z", "--others", "--exclude-standard", "--", *paths)
    return _paths(proc.stdout)


@dataclass(frozen=True)
class IndexEntry:
    """One entry of the git index (``git ls-files --stage``)."""

    path: str
    mode: str
    oid: str
    stage: int


def blob_id(data: bytes, like: str = "") -> str:
    """The id git gives ``data`` as a blob: SHA-1, or SHA-256 when ``like`` (an id of
    the same repository) is 64 digits long."""
    import hashlib  # (loads OpenSSL: ~3 ms of the hook's start-up, spared when unused)

    algorithm = hashlib.sha256 if len(like) == 64 else hashlib.sha1
    return algorithm(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


INDEX_LISTING = ("ls-files", "-z", "--stage", "--")  # what index_entries runs, + paths


def index_entries(
    root: Path, paths: Iterable[str] = (), *, modes: frozenset[str] = REGULAR_MODES
) -> list[IndexEntry]:
    """What the index holds (``GIT_INDEX_FILE`` honoured), entries of ``modes`` only
    (regular files by default)."""
    proc = run_git(root, *INDEX_LISTING, *paths)
    entries = []
    for record in proc.stdout.split(b"\0"):
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        mode, oid, stage = meta.decode().split(" ")
        if mode not in modes:
            continue  # submodules (and by default symlinks) hold no file content
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
    root: Path, oids: Iterable[str], limit: int | None = None, kind: bytes = b"blob"
) -> Iterator[tuple[str, int, bytes | None]]:
    """``(oid, size, content)`` for each blob (object of ``kind``) from one
    ``cat-file --batch``; the content is None (and never held in memory) when the
    object is larger than ``limit``."""
    wanted = list(dict.fromkeys(oids))
    if not wanted:
        return
    proc = take_early(root, ("cat-file", "--batch"), keep_stderr=False)
    if proc is None:
        proc = popen_git(root, "cat-file", "--batch", stdin=subprocess.PIPE)
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
            if parts[1] == kind:
                yield parts[0].decode(), size, data
    finally:
        out.close()
        proc.wait()
        writer.join()


def stream_blob(root: Path, oid: str, chunk: int = 1 << 20) -> Iterator[bytes]:
    """The content of one blob in pieces of at most ``chunk`` bytes (a large blob is
    never held whole in memory)."""
    proc = popen_git(root, "cat-file", "blob", oid)
    assert proc.stdout is not None
    try:
        while piece := proc.stdout.read(chunk):
            yield piece
    finally:
        proc.stdout.close()
        proc.wait()


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


def ref_tips(root: Path, *, every_ref: bool = False) -> str:
    """HEAD and every ref (but ``refs/secretkit/*`` unless ``every_ref``) with what it
    points to, one per line, with every worktree's HEAD (``rev-list --all`` walks
    them) and what a shallow boundary or grafts say: equal output means an equal
    history (cheap next to a rev-list).  Deepening a shallow clone moves no ref."""
    import hashlib

    proc = run_git(root, "show-ref", "--head", check=False)
    lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
    lines = [line for line in lines if every_ref or " refs/secretkit/" not in line]
    trees = run_git(root, "worktree", "list", "--porcelain", check=False)
    lines += [
        f"worktree {line}"
        for line in trees.stdout.decode("utf-8", "surrogateescape").splitlines()
        if line.startswith("HEAD ")
    ]
    common = run_git(root, "rev-parse", "--git-common-dir", check=False)
    if common.returncode == 0:
        base = Path(common.stdout.decode("utf-8", "surrogateescape").strip())
        base = base if base.is_absolute() else root / base
        for name in ("shallow", "info/grafts"):
            try:
                data = (base / name).read_bytes()
            except OSError:
                continue
            lines.append(f"{name} {hashlib.sha256(data).hexdigest()}")
    return "\n".join(sorted(lines))


def history_commits(root: Path, *, every_ref: bool = False) -> list[str]:
    """Every commit reachable from any ref (but ``refs/secretkit/*`` unless
    ``every_ref``), newest first."""
    exclude = [] if every_ref else ["--exclude=refs/secretkit/*"]
    revs = run_git(root, "rev-list", *exclude, "--all", check=False)
    if revs.returncode != 0:
        raise unreadable_history(root, revs.stderr)
    return revs.stdout.decode().split()


def unreadable_history(root: Path, stderr: bytes) -> HistoryUnreadable:
    """The error for a history walk git refused, with the way out: a ref or a linked
    worktree's HEAD naming a missing object is removed (it holds nothing git can
    read); anything else is for ``git fsck`` to name."""
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    said = lines[-1] if lines else "git rev-list failed"
    bad = re.search(r"(?:bad|missing) object (?:\S+ for )?(\S+)", said)
    ref = bad.group(1) if bad else None
    if ref is not None and ref.startswith("worktrees/") and ref.endswith("/HEAD"):
        base = git_dir(root) or root / ".git"
        try:
            gitdir = base / ref.rsplit("/", 1)[0] / "gitdir"
            where: Path | None = Path(gitdir.read_text(encoding="utf-8").strip()).parent
        except OSError:
            where = None
        fix = (
            f"git worktree remove --force {shlex.quote(str(where))} (its HEAD names no commit)"
            if where is not None
            else "git worktree prune, or repair that worktree's HEAD"
        )
    elif ref is not None and ref.startswith("refs/"):
        fix = f"git update-ref -d {shlex.quote(ref)} (it names an object this repository lacks)"
    else:
        fix = "git fsck names what is broken; repair it"
    return HistoryUnreadable(
        f"git cannot walk the whole history: {said}", hint=f"{fix}, then run again"
    )


def history_blobs(
    root: Path,
    commits: list[str] | None = None,
    *,
    every_ref: bool = False,
    reading: Callable[[str], Hashable] | None = None,
    paths: dict[str, str] | None = None,
    nix_paths: dict[str, set[str]] | None = None,
) -> list[HistoryBlob]:
    """Every distinct blob added or modified by any commit reachable from any ref
    (merges included, against each parent), once, with the oldest commit and a path
    that hold it.  ``reading``: a blob is listed once for each distinct
    ``reading(path)`` of the paths it was added at (what a scan reads of a path:
    bytes published as ``notes.txt`` and as ``secrets/token`` are judged at both).

    ``refs/secretkit/*`` — the local backups ``purge`` keeps of the history it
    rewrote — are left out: they exist to hold the old secrets until the user drops
    them, and are never pushed by ``git push --all``/``--tags``.  ``every_ref``
    includes them (``check``: a backup that still holds a secret must be removed).
    ``commits`` (newest first) limits the walk to those commits.  ``paths``, when
    given, gains every path a walked commit added or changed (any mode: a name is
    published whatever the entry is), with the oldest commit that did; ``nix_paths``
    every path each ``.nix`` blob was added at (blob id → paths)."""
    listed = history_commits(root, every_ref=every_ref) if commits is None else commits
    if not listed:
        return []
    from secretkit.git.streams import nul_parts

    # (parsed as git writes it: git walks the next commits meanwhile)
    parts = nul_parts(
        root,
        ["diff-tree", "--stdin", "-r", "--root", "-m", "-z", "--no-renames", "--no-ext-diff",
         "--diff-filter=AMT"],
        listed,
    )  # fmt: skip
    found: dict[str, HistoryBlob] = {}
    # the blobs added at paths of two readings or more: oid -> reading -> blob
    split: dict[str, dict[Hashable, HistoryBlob]] = {}
    read = functools.cache(reading) if reading is not None else None
    commit = ""
    for token in parts:
        if token.startswith(b":"):
            meta = token[1:].split(b" ")
            name = next(parts, b"").decode("utf-8", "surrogateescape")
            if paths is not None:
                paths[name] = commit  # (rev-list lists newest first: the oldest stays)
            if len(meta) < 5 or meta[1].decode() not in SCANNED_MODES:
                continue
            oid = meta[3].decode()
            if nix_paths is not None and name.endswith(".nix"):
                nix_paths.setdefault(oid, set()).add(name)
            # rev-list lists newest first: the last commit seen is the oldest.
            blob = HistoryBlob(oid, commit, name)
            if read is not None:  # (a reading is asked only where a blob has two paths)
                readings = split.get(oid)
                if readings is not None:
                    readings[read(name)] = blob
                elif oid in found and found[oid].path != name:
                    split[oid] = {read(found[oid].path): found[oid], read(name): blob}
            found[oid] = blob
        elif token.strip():
            commit = token.decode().strip()
    if not split:
        return list(found.values())
    return [
        b for oid, blob in found.items() for b in (split[oid].values() if oid in split else [blob])
    ]


REFETCH = "git fetch --refetch, or clone again"  # (where no remote is a promisor)


def refetch_fix(root: Path) -> str:
    """How to bring back blobs missing from the object store.  In a partial clone
    (``--filter=blob:none``) a plain ``git fetch --refetch`` applies the filter again
    and brings none of them: the filter is lifted for that one fetch."""
    proc = run_git(root, "config", "--get-regexp", r"^remote\..*\.promisor$", check=False)
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(" ")
        if value.strip().lower() == "true":
            remote = key[len("remote.") : -len(".promisor")]
            lifted = shlex.quote(f"remote.{remote}.partialclonefilter=")
            return f"git -c {lifted} fetch --refetch {shlex.quote(remote)}"
    return REFETCH


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


# ---------------------------------------------------------------------------
# history beyond file contents: messages, tags of non-commits
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Message:
    """A commit message (``ref`` None) or an annotated tag's message (``ref`` its name);
    ``oid`` is the commit or the tag object."""

    oid: str
    ref: str | None
    text: bytes


def commit_messages(
    root: Path, *, every_ref: bool = False, skip: Callable[[str], bool] = lambda c: False
) -> list[Message]:
    """The message of every commit reachable from any ref (purge's backups only with
    ``every_ref``) but those ``skip`` names, once each, newest first: the bytes after
    the commit object's headers, as a push sends them (``git log`` ends a message at a
    NUL byte, and re-encodes it: a secret after a NUL was never read)."""
    commits = [c for c in history_commits(root, every_ref=every_ref) if not skip(c)]
    return [Message(oid, None, text) for oid, text in messages_of(root, commits).items()]


def messages_of(root: Path, commits: Sequence[str]) -> dict[str, bytes]:
    """The message of each of ``commits`` (in their order), as :func:`commit_messages`
    reads it: the bytes after the commit object's headers."""
    return {
        oid: data.partition(b"\n\n")[2]
        for oid, _size, data in read_blobs_limited(
            root, list(dict.fromkeys(commits)), kind=b"commit"
        )
        if data is not None
    }


@dataclass(frozen=True)
class TaggedObject:
    """A ref that points at a tag object, a blob or a tree (``ref``), with the object
    it finally points at: ``oid`` of ``kind`` (``blob``/``tree``/``commit``), and the
    tag objects on the way (``tags``, outermost first: a tag of a tag is read through)
    with their messages (``messages``, in the same order)."""

    ref: str
    kind: str
    oid: str
    tags: tuple[str, ...] = ()
    messages: tuple[bytes, ...] = ()

    @property
    def tag(self) -> str | None:
        return self.tags[0] if self.tags else None


_MAX_TAG_DEPTH = 64


def tags(root: Path, *, every_ref: bool = False) -> list[TaggedObject]:
    """Every ref (not only ``refs/tags/``: ``git push --mirror`` sends them all; purge's
    backups only with ``every_ref``) that points at a tag object, a blob or a tree,
    with what it finally points at.  Refs of commits are left to the commit walk.  Tag
    objects are read a level at a time, each level in one ``cat-file --batch``."""
    fmt = "%(refname)%00%(objecttype)%00%(objectname)"
    proc = run_git(root, "for-each-ref", f"--format={fmt}")
    found: dict[str, tuple[str, str]] = {}  # ref -> (kind, oid) it points at so far
    for line in proc.stdout.decode("utf-8", "surrogateescape").splitlines():
        ref, kind, oid = (line.split("\0") + [""] * 3)[:3]
        if not (ref.startswith("refs/secretkit/") and not every_ref):
            found[ref] = (kind, oid)
    chains: dict[str, list[tuple[str, bytes]]] = {ref: [] for ref in found}
    pending = {ref: oid for ref, (kind, oid) in found.items() if kind == "tag"}
    for _ in range(_MAX_TAG_DEPTH):
        if not pending:
            break
        objects = read_objects(root, pending.values(), "tag")
        following: dict[str, str] = {}
        for ref, oid in pending.items():
            header, _, message = objects.get(oid, b"").partition(b"\n\n")
            chains[ref].append((oid, message))
            fields = dict(
                line.split(" ", 1)
                for line in header.decode("utf-8", "replace").splitlines()
                if " " in line
            )
            found[ref] = (fields.get("type", ""), fields.get("object", ""))
            if found[ref][0] == "tag":
                following[ref] = found[ref][1]
        pending = following
    return [
        TaggedObject(
            ref, kind, oid, tuple(t for t, _ in chains[ref]), tuple(m for _, m in chains[ref])
        )
        for ref, (kind, oid) in found.items()
        if chains[ref] or kind in ("blob", "tree")
    ]


def read_objects(root: Path, oids: Iterable[str], kind: str) -> dict[str, bytes]:
    """The content of each object of ``kind`` among ``oids``, from one ``cat-file
    --batch`` (small objects: tags)."""
    wanted = list(dict.fromkeys(oids))
    if not wanted:
        return {}
    proc = run_git(root, "cat-file", "--batch", input="".join(f"{o}\n" for o in wanted).encode())
    out, pos, found = proc.stdout, 0, {}
    for _ in wanted:
        end = out.find(b"\n", pos)
        if end == -1:
            break
        header = out[pos:end].split(b" ")
        pos = end + 1
        if len(header) != 3:
            continue  # "<oid> missing"
        size = int(header[2])
        if header[1].decode() == kind:
            found[header[0].decode()] = out[pos : pos + size]
        pos += size + 1
    return found


def tree_entries(root: Path, tree: str) -> list[tuple[str, str]]:
    """``(path, blob id)`` of every file and symlink in ``tree`` (recursively)."""
    proc = run_git(root, "ls-tree", "-r", "-z", tree)
    out = []
    for record in proc.stdout.split(b"\0"):
        meta, _, name = record.partition(b"\t")
        parts = meta.decode().split(" ")
        if len(parts) == 3 and parts[1] == "blob" and parts[0] in SCANNED_MODES:
            out.append((name.decode("utf-8", "surrogateescape"), parts[2]))
    return out


def path_versions(root: Path, path: str, limit: int = 64) -> list[tuple[str, bytes]]:
    """``(commit, content)`` of ``path`` as each of the last ``limit`` commits that
    changed it left it, newest first, back to a commit that deleted it (the versions of
    the file HEAD holds: none when HEAD does not): one ``log``, one ``cat-file``."""
    versions: list[tuple[str, str]] = []
    for commit, new in path_changes(root, path, [f"--max-count={limit}"]):
        if new is None:  # deleted there: what came before is another file's history
            break
        versions.append((commit, new))
    blobs = dict(read_blobs(root, [oid for _, oid in versions]))
    return [(commit, blobs[oid]) for commit, oid in versions if oid in blobs]


def path_changes(
    root: Path, path: str, options: Sequence[str] = ()
) -> list[tuple[str, str | None]]:
    """``(commit, blob)`` of each commit ``git log <options> -- path`` lists, newest
    first: the blob it left at ``path``, None where it deleted it."""
    proc = run_git(
        root, "log", *options, "--format=%x01%H", "--raw", "--no-abbrev", "--no-renames",
        "--", path, check=False,
    )  # fmt: skip
    out: list[tuple[str, str | None]] = []
    for record in proc.stdout.decode("utf-8", "surrogateescape").split("\x01")[1:]:
        commit, _, raw = record.partition("\n")
        fields = [line.split("\t", 1)[0].split() for line in raw.splitlines() if line[:1] == ":"]
        new = next((f[3] for f in fields if len(f) >= 5 and f[4] != "D"), None)
        out.append((commit.strip(), new))
    return out
