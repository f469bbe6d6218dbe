"""The history: every blob of every commit (:func:`scan_history`), and what is
beyond file contents: commit and tag messages, and tags that point straight at a blob
or a tree (no commit holds those, so the blob walk never sees them).

Findings here carry a path in parentheses that no file can have:
``(commit message)`` (with the commit), ``(message of refs/tags/v1)``,
``(refs/tags/key)`` for a tag of a blob and ``(refs/tags/t):dir/file`` for a file
of a tagged tree (their ``commit`` is None: no commit holds them).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secretkit.scan.allowlist import Allowlist
from secretkit.scan.many_files import (
    MISSING_BLOB,
    PARALLEL_MIN_FILES,
    Job,
    Progress,
    scan_large_blobs,
)
from secretkit.scan.model import Finding, ScanReport, Skipped
from secretkit.scan.one_file import MAX_BYTES, scan_bytes

if TYPE_CHECKING:
    from concurrent.futures import Future

    from secretkit.git.objects import HistoryBlob
    from secretkit.scan.history_cache import HistoryCache

COMMIT_MESSAGE = "(commit message)"
# (what a shallow clone does not hold: its report says so, never "no secrets found")
SHALLOW = "(the history behind this shallow clone's boundary)"
SHALLOW_REASON = "not in this clone (git fetch --unshallow brings it)"


def scan_history(
    root: Path,
    *,
    progress: Progress | None = None,
    max_bytes: int = MAX_BYTES,
    every_ref: bool = False,
    use_cache: bool = True,
) -> ScanReport:
    """Every blob of every commit reachable from any ref, each distinct blob once for
    each path it was added at that a scan reads differently (``notes.txt`` and
    ``secrets/token``; :func:`~secretkit.scan.history_run.alike`); findings carry the
    (oldest) commit that added the blob there.  purge's backup refs are
    left out unless ``every_ref``.  Commit and tag messages, tags of blobs or trees and
    notes are read as well (:func:`message_jobs`, :func:`tag_findings`).

    Blobs are read and scanned in batches (:mod:`secretkit.scan.history_run`; memory
    stays flat on any history); a blob over ``max_bytes`` is streamed from git and
    scanned in pieces.  What each blob gave is remembered in the repository's git
    directory (:mod:`secretkit.scan.history_cache`): a later run scans only blobs it
    has not seen clean or skipped under the same detectors and allowlist."""
    from secretkit.git import require_repo
    from secretkit.git.lfs import objects_dir
    from secretkit.git.objects import read_blobs_limited
    from secretkit.scan import allowlist
    from secretkit.scan.history_cache import HistoryCache, cache_key
    from secretkit.scan.history_run import (
        BATCH_BYTES,
        BATCH_FILES,
        Messages,
        Pool,
        Started,
        alike,
        finish_batch,
        heartbeat,
        history_index,
        note_nix_facts,
        rebuild,
        settle,
        start_batch,
    )

    started = time.perf_counter()
    top = require_repo(Path(root))
    allow = allowlist.load(top)
    lfs = objects_dir(top)
    key = cache_key(allow.identity(), max_bytes)
    store = HistoryCache.load(top, key) if use_cache else HistoryCache(None, key)
    # git log while the graph is walked
    messages = Messages(lambda skip: message_jobs(top, every_ref, skip), store, allow, max_bytes)
    authors = _authors_read_meanwhile(top, store, every_ref)  # (git log during the walk)
    walked: dict[str, str] = {}  # the paths the walk met -> the oldest commit adding each
    nix_paths: dict[str, set[str]] = {}  # a .nix blob -> the paths the walk met it at
    tips = store.tips
    with heartbeat(progress):
        blobs, clean = history_index(top, store, walked, nix_paths, every_ref=every_ref)
    moved = not tips or store.tips != tips  # (else: the same history as the cache's)
    report = ScanReport()
    report.stats["files"] += clean
    report.stats["cached"] = clean  # known clean from the cache: not read again
    todo: dict[str, list[HistoryBlob]] = {}  # oid -> the paths it is to be judged at
    # the versions of one path one after the other: each blob is scanned from the
    # version before it (scan.versions), in the same worker
    for blob in sorted(blobs, key=lambda b: b.path):
        state = store.known(blob.oid, blob.path)
        if state == "clean":
            if not clean:
                report.stats["files"] += 1
                report.stats["cached"] += 1
        elif state == "skip" and not read_again(store.skip_reason(blob.oid, blob.path)):
            reason = store.skip_reason(blob.oid, blob.path) or "skipped"
            report.skipped.append(Skipped(f"{blob.commit[:12]}:{blob.path}", reason))
        else:
            todo.setdefault(blob.oid, []).append(blob)
    total = len(blobs) + clean
    done = [total - sum(len(members) for members in todo.values())]
    shared = _shared_names(top, store, todo)  # (names a flake binds to an import)

    def tick(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress(done[0], total)

    tick(0)
    batch: list[tuple[list[HistoryBlob], bytes]] = []
    size = 0
    large_pending: list[tuple[list[HistoryBlob], int, Any]] = []
    with (
        heartbeat(progress, lambda: (done[0], total)),
        Pool(_to_scan(todo, store) + messages.count(authors), PARALLEL_MIN_FILES) as pool,
    ):
        # commit messages first: the workers scan them while git reads the first blobs
        messages.start(pool)
        running: deque[tuple[list[tuple[list[HistoryBlob], bytes]], Started]] = deque()
        seen: set[str] = set()
        for oid, _size, data in read_blobs_limited(top, todo, max_bytes):
            seen.add(oid)
            for group in alike(todo[oid], data):  # each group scanned once, at its first
                if data is not None and any(b.path.endswith(".nix") for b in group):
                    note_nix_facts(store, oid, data, shared)
                blob = group[0]
                tick(len(group) - 1)
                if data is None:  # over max_bytes: streamed from git, scanned in pieces
                    large = [(blob.path, oid, _size)]
                    if pool.executor is not None:  # (by a worker: this process reads on)
                        args = (top, large, allow, blob.commit, max_bytes)
                        future = pool.executor.submit(scan_large_blobs, *args)
                        large_pending.append((group, _size, future))
                        continue
                    found, skips = scan_large_blobs(top, large, allow, blob.commit, max_bytes)
                    # remembered like any blob (without spans: scanned again while it has
                    # findings), or the next run would count it neither clean nor flagged
                    why = skips[0].reason if skips else None
                    settle(group, report, store, found, why, _size)
                    tick(1)
                    continue
                spans = store.spans(blob.oid, blob.path)
                if spans is not None:
                    try:
                        found = rebuild(blob, data, spans, allow)
                    except (KeyError, TypeError, ValueError):
                        pass  # a damaged entry: scan the blob again
                    else:
                        settle(group, report, store, found, None, 0, spans)
                        report.stats["cached"] += len(group)
                        tick(1)
                        continue
                batch.append((group, data))
                size += len(data)
                if size >= BATCH_BYTES or len(batch) >= BATCH_FILES:
                    # two batches in flight: the workers never wait for git or for this
                    # process to gather results
                    running.append((batch, start_batch(batch, allow, max_bytes, pool, lfs)))
                    batch, size = [], 0
                    if len(running) > 1:
                        finish_batch(*running.popleft(), report, store, tick)
        if batch:
            running.append((batch, start_batch(batch, allow, max_bytes, pool, lfs)))
        while running:
            finish_batch(*running.popleft(), report, store, tick)
        for group, whole, future in large_pending:
            found, skips = future.result()
            settle(group, report, store, found, skips[0].reason if skips else None, whole)
            tick(1)
        messages.settle(report)
    for oid, members in todo.items():  # git could not give it: never silence
        if oid not in seen:  # remembered so a later run asks git for it again
            for blob in members:
                report.skipped.append(Skipped(f"{blob.commit[:12]}:{blob.path}", MISSING_BLOB))
                store.record_skip(blob.oid, blob.commit, blob.path, MISSING_BLOB)
                tick(1)
    if _shallow(top):
        report.skipped.append(Skipped(SHALLOW, SHALLOW_REASON))
    store.add_ref_paths(nix_paths)
    beside = _beside_contents(top, store, walked, allow, report.findings, every_ref, moved, authors)
    report.findings.extend(beside)
    store.save()
    report.findings.extend(tag_findings(top, allow, every_ref))
    report.findings.extend(_ref_name_findings(top, allow, every_ref))
    report.findings.sort(key=lambda f: (f.path, f.commit or "", f.start))
    report.stats["seconds"] = time.perf_counter() - started
    return report


def _shared_names(top: Path, store: HistoryCache, todo: dict[str, list[HistoryBlob]]) -> set[str]:
    """The names any version of a :data:`~secretkit.scan.nix_imports.SHARING` file
    binds to an import (a flake's specialArgs: they reach every module), from the
    cache and from the versions this run reads."""
    from secretkit.git.objects import read_blobs
    from secretkit.scan.nix_imports import SHARING, bound_imports, shared_bound

    names: set[str] = set()
    for oid, facts in store.imports.items():
        for path in store.ref_paths.get(oid, ()):
            if path in SHARING:
                names.update(shared_bound(path, facts))
    fresh = {b.oid: b.path for members in todo.values() for b in members if b.path in SHARING}
    for oid, data in read_blobs(top, fresh):
        names.update(bound_imports(fresh[oid], data))
    return names


def _beside_contents(
    top: Path,
    store: HistoryCache,
    walked: dict[str, str],
    allow: Allowlist,
    known: list[Finding],
    every_ref: bool,
    moved: bool,
    authors: Future[Any] | None = None,
) -> list[Finding]:
    """What no blob says alone: a token in the name of a path the history ever had
    (:mod:`secretkit.scan.names`; the finding names the oldest commit that added the
    path), every version of a file a ``.nix`` blob of the history hands to a secret
    option by its path (:mod:`secretkit.scan.nix_file_refs`), and the values at the
    attributes of the files a ``.nix`` blob imports and gives to secret options
    (:mod:`secretkit.scan.nix_imports`), in every version of those files."""
    from secretkit.scan.names import named
    from secretkit.scan.nix_file_refs import history_value_files, history_versions
    from secretkit.scan.nix_imports import history_values, wanted_from_facts

    candidates = {**walked, **_named_paths(top, store)}  # (the cache's commit: the older)
    found = named(sorted(candidates), allow)
    store.set_named({name: candidates[name] for name, _finding in found})
    out = [replace(finding, commit=candidates[name]) for name, finding in found]
    out += _identity_findings(top, store, allow, every_ref, moved, authors)
    files = store.ref_targets()
    imported = wanted_from_facts(
        (path, facts) for oid, facts in store.imports.items() for path in store.ref_paths[oid]
    )
    targets = {**dict.fromkeys(imported, "secret"), **files}  # (one walk for both)
    versions = None if moved else store.versions(targets)
    if versions is None:
        versions = history_versions(top, targets, every_ref=every_ref)
        store.record_versions(targets, versions)
    # (a value file's link target is judged as the file: not an import's own file)
    by_files = {v: seen for v, seen in versions.items() if v[0] in files or v[0] not in imported}
    out += history_value_files(top, by_files, allow, known)
    values = {v: seen[0] for v, seen in versions.items() if v[0] in imported}
    return out + history_values(top, values, imported, allow, [*known, *out])


def _authors_read_meanwhile(top: Path, store: HistoryCache, every_ref: bool) -> Future[Any] | None:
    """The history's identities (:func:`secretkit.git.identities.identities`) read by a
    thread while the graph is walked, when the cache cannot stand for them (a moved
    ref, no cache): done before the pool forks (:meth:`Messages.count` waits)."""
    from concurrent.futures import ThreadPoolExecutor

    from secretkit.git.identities import identities
    from secretkit.git.objects import ref_tips

    if (
        store.identities is not None
        and store.tips
        and ref_tips(top, every_ref=every_ref) == store.tips
    ):
        return None
    reader = ThreadPoolExecutor(max_workers=1)
    future = reader.submit(identities, top, ["--all"] if every_ref else None)
    reader.shutdown(wait=False)
    return future


def _identity_findings(
    top: Path,
    store: HistoryCache,
    allow: Allowlist,
    every_ref: bool,
    moved: bool,
    read: Future[Any] | None = None,
) -> list[Finding]:
    """Tokens in the ``Name <email>`` of the history's authors, committers and taggers
    (:mod:`secretkit.git.identities`), each at the oldest commit (or tag) naming it;
    while no ref moved, only the commits the cache names are read again."""
    from secretkit.git.identities import identities, of_commits, taggers
    from secretkit.scan.names import IDENTITY_PREFIX, named

    if read is not None:
        seen = read.result()
    elif moved or store.identities is None:
        seen = identities(top, ["--all"] if every_ref else None)
    else:
        seen = of_commits(top, sorted({commit for commit, _tag in store.identities}))
        kept = {tag for _commit, tag in store.identities}
        seen = {name: oid for name, oid in seen.items() if store.path_tag(name) in kept}
        seen.update(taggers(top))  # (read again: a few refs)
    found = named(sorted(seen), allow, IDENTITY_PREFIX)
    store.set_identities({(seen[name], name) for name, _finding in found})
    return [replace(finding, commit=seen[name]) for name, finding in found]


def _ref_name_findings(top: Path, allow: Allowlist, every_ref: bool) -> list[Finding]:
    """Tokens in the names of the refs a push publishes (``(ref name) refs/heads/…``;
    no commit holds a name)."""
    from secretkit.git.filter_repo import BACKUP_NAMESPACE, list_refs
    from secretkit.scan.names import REF_PREFIX, name_findings

    refs = [r for r in list_refs(top) if every_ref or not r.startswith(BACKUP_NAMESPACE)]
    return name_findings(refs, allow, REF_PREFIX)


def _shallow(top: Path) -> bool:
    from secretkit.git import git_dir

    base = git_dir(top)
    return base is not None and (base / "shallow").is_file()


def _named_paths(top: Path, store: HistoryCache) -> dict[str, str]:
    """The token-named paths the cache knows (path → commit), read back from the
    commits that added them (the cache keeps a hash of each path, not the name)."""
    from secretkit.git import run_git

    out: dict[str, str] = {}
    for commit in sorted(set(store.named.values())):
        listed = run_git(top, "ls-tree", "-r", "-z", "--name-only", commit, check=False)
        for raw in listed.stdout.split(b"\0"):
            path = raw.decode("utf-8", "surrogateescape")
            if raw and store.named.get(store.path_tag(path)) == commit:
                out[path] = commit
    return out


def _to_scan(todo: dict[str, list[HistoryBlob]], store: HistoryCache) -> int:
    """How many of ``todo`` a scan may read: a flagged blob whose findings the cache
    can rebuild from their positions is not scanned (so a repeated run forks no pool
    for it)."""
    return sum(
        1 for members in todo.values() if store.spans(members[0].oid, members[0].path) is None
    )


def read_again(reason: str | None) -> bool:
    """Whether a blob skipped for ``reason`` is read again by the next run, not
    reported skipped from the cache: what a fetch can bring (the blob itself, an LFS
    object) may be there by then."""
    from secretkit.git.lfs import MISSING_OBJECT

    return reason == MISSING_BLOB or (reason or "").startswith(MISSING_OBJECT)


def tag_message_path(ref: str) -> str:
    return f"(message of {ref})"


def tagged_path(ref: str, inner: str | None = None) -> str:
    return f"({ref})" + (f":{inner}" if inner else "")


def is_message(path: str) -> bool:
    return path == COMMIT_MESSAGE or path.startswith("(message of ")


def tag_of(path: str) -> str | None:
    """The ref a finding of a tag or another ref holds (``refs/tags/x``,
    ``refs/custom/y``): in its message (or that of a tag it points through) or in the
    blob or tree it points at; else None."""
    if path.startswith("(message of refs/"):
        return path[len("(message of ") :].split(")", 1)[0]
    if path.startswith("(refs/"):
        return path[1:].split(")", 1)[0]
    return None


def ref_removal(ref: str) -> tuple[str, str]:
    """``(what it is called, the command that deletes it here)`` for a ref a finding
    of :func:`tag_of` names: ``tag v1``/``git tag -d v1``, purge's backup (all its
    refs), else the ref itself (``git update-ref -d``)."""
    import shlex

    from secretkit.git.refs import ref_group, removal_command

    if ref.startswith("refs/tags/"):
        name = ref.removeprefix("refs/tags/")
        return f"tag {name}", f"git tag -d {shlex.quote(name)}"
    group = ref_group(ref)  # purge's backup: all its refs at once
    if group != ref:
        return f"backup {group}", removal_command(group)
    return f"ref {ref}", removal_command(shlex.quote(ref))


def message_jobs(
    root: Path, every_ref: bool = False, known_clean: Callable[[str], bool] = lambda c: False
) -> list[Job]:
    """Scan jobs for the message of every commit but those ``known_clean``
    (:func:`secretkit.git.objects.commit_messages`)."""
    from secretkit.git.objects import commit_messages

    return [
        (COMMIT_MESSAGE, None, message.text, message.oid)
        for message in commit_messages(root, every_ref=every_ref, skip=known_clean)
        if message.text.strip()
    ]


def tag_findings(root: Path, allow: Allowlist, every_ref: bool = False) -> list[Finding]:
    """Secrets in annotated tag messages (every tag a ref points through) and in the
    blobs and trees refs point at (no commit holds those)."""
    from secretkit.git.lfs import objects_dir
    from secretkit.git.objects import read_blobs, tags, tree_entries

    lfs = objects_dir(root)
    found: list[Finding] = []
    for tag in tags(root, every_ref=every_ref):
        for text in tag.messages:
            if text.strip():
                hits, _ = scan_bytes(tag_message_path(tag.ref), text, allow=allow)
                found.extend(hits)
        if tag.kind == "blob":
            for _oid, data in read_blobs(root, [tag.oid]):
                hits, _ = scan_bytes(tagged_path(tag.ref), data, allow=allow, lfs=lfs)
                found.extend(hits)
        elif tag.kind == "tree":
            entries = tree_entries(root, tag.oid)
            blobs = dict(read_blobs(root, (oid for _path, oid in entries)))
            inside: list[Finding] = []
            for inner, oid in entries:
                if oid in blobs:
                    hits, _ = scan_bytes(inner, blobs[oid], allow=allow, lfs=lfs)
                    inside.extend(hits)
            inside += _tree_beside(entries, blobs, allow, inside)
            found.extend(replace(f, path=tagged_path(tag.ref, f.path)) for f in inside)
    return found


def _tree_beside(
    entries: list[tuple[str, str]], blobs: dict[str, bytes], allow: Allowlist, known: list[Finding]
) -> list[Finding]:
    """What a tagged tree says beside its files' contents, as a commit's tree would:
    tokens in its paths' names, and the files its ``.nix`` files hand to secret
    options (:mod:`secretkit.scan.names`, :mod:`secretkit.scan.nix_file_refs`)."""
    from secretkit.scan.names import name_findings
    from secretkit.scan.nix_file_refs import referenced_secret_files

    oids = dict(entries)

    def read(path: str) -> bytes | None:
        return blobs.get(oids.get(path, ""))

    names = [path for path, _oid in entries]
    return [*name_findings(names, allow), *referenced_secret_files(names, read, allow, known)]
