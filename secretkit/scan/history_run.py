"""The history scan's machinery: the blob index (with the cache), batches through one
process pool, results attributed to their blob, findings rebuilt from cached spans,
and a heartbeat for progress.  :func:`secretkit.scan.history.scan_history` composes it."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secretkit.git.objects import HistoryBlob
from secretkit.scan.allowlist import Allowlist
from secretkit.scan.history_cache import HistoryCache

if TYPE_CHECKING:
    from concurrent.futures import Future
from secretkit.scan.many_files import Job, Progress, Result, chunk_worker, scan_file_job
from secretkit.scan.model import Finding, ScanReport, Skipped
from secretkit.sensitive import Sensitive, preview

_SPAN_KEYS = (
    "line",
    "column",
    "end_line",
    "end_column",
    "rule",
    "kind",
    "inside",  # ("binary": purge cannot rewrite it)
    "severity",
    "attrpath",
    "start",
    "end",
)


def _spans(findings: list[Finding], data: bytes, path: str) -> list[dict[str, object]] | None:
    """What the cache keeps to rebuild ``findings`` from their blob (no values), or
    None when a value is not exactly its bytes (Nix escapes) or not in the blob itself
    (a member of an archive, an LFS object's content): then it is rescanned."""
    from secretkit.git.lfs import pointer

    if pointer(data) is not None:
        return None
    for f in findings:
        if f.path != path:
            return None
        if data[f.start : f.end] != f.secret.reveal().encode("utf-8"):
            return None
    return [{key: getattr(f, key) for key in _SPAN_KEYS} for f in findings]


def rebuild(
    blob: HistoryBlob, data: bytes, spans: list[dict[str, Any]], allow: Allowlist
) -> list[Finding]:
    """The findings a scan of ``blob`` gave, from the spans the cache kept.  The
    fingerprint is not taken from the cache: it is computed from the value, keyed by
    ``allow``, when an output or the allowlist asks for it (as for a scanned blob)."""
    out = []
    for span in spans:
        value = data[span["start"] : span["end"]].decode("utf-8", "replace")
        out.append(
            Finding(
                path=blob.path,
                commit=blob.commit,
                preview=preview(value),
                secret=Sensitive(value),
                keyring=allow,
                **{key: span[key] for key in _SPAN_KEYS},
            )
        )
    return out


def history_index(
    top: Path,
    store: HistoryCache,
    paths: dict[str, str],
    nix_paths: dict[str, set[str]],
    *,
    every_ref: bool = False,
) -> tuple[list[HistoryBlob], int]:
    """The blobs to look at (all, or only those the cache cannot vouch for plus new
    ones) and how many known-clean blobs the cache stands for besides.  ``every_ref``:
    purge's backup refs count as history too (``check``).  ``paths`` gains the paths
    the commits walked added (each with the oldest commit that did): with the cache's
    :attr:`~secretkit.scan.history_cache.HistoryCache.named` (emptied on a walk of the
    whole history) they are every path whose name may hold a token; ``nix_paths`` every
    path each ``.nix`` blob of those commits was added at."""
    from secretkit.git.objects import HistoryBlob, history_blobs, history_commits, ref_tips

    tips = ref_tips(top, every_ref=every_ref)
    if store.commits and tips == store.tips:
        commits, current = [], store.commits  # no ref moved: the same history
    else:
        commits = history_commits(top, every_ref=every_ref)
        current = set(commits)
    if store.commits and store.commits <= current:
        # history only grew: walk the new commits; the cache knows every older blob
        fresh = [c for c in commits if c not in store.commits]
        # where a blob is known at two commits for one reading, a fresh walk names it at
        # the one rev-list lists last (the oldest); so does this (a rename or copy in a
        # new commit keeps the known place; a new branch of older commits takes it)
        order = {commit: i for i, commit in enumerate(commits)}
        known: dict[tuple[str, Hashable], HistoryBlob] = {}
        walked = (
            history_blobs(top, fresh, reading=walk_reading, paths=paths, nix_paths=nix_paths)
            if fresh
            else []
        )
        flagged = [HistoryBlob(oid, commit, path) for oid, commit, path in store.blobs()]
        for blob in [*flagged, *walked]:
            item = (blob.oid, walk_reading(blob.path))
            before = known.get(item)
            if before is None or order.get(blob.commit, -1) > order.get(before.commit, -1):
                known[item] = blob
                if before is not None and before.path != blob.path:
                    store.forget(before.oid, before.path)  # (its place is taken)
        blobs = list(known.values())
        clean = sum(1 for status in store.entries.values() if status == "-")
    else:
        blobs = history_blobs(top, commits, reading=walk_reading, paths=paths, nix_paths=nix_paths)
        store.keep_only({store.item(b.oid, b.path) for b in blobs})
        store.set_named({})  # (every path was walked: judged again)
        clean = 0
    store.set_commits(current, tips)
    return blobs, clean


def note_nix_facts(store: HistoryCache, oid: str, data: bytes, shared: set[str]) -> None:
    """Remember which files the ``.nix`` blob ``data`` hands to a secret option by
    their paths, and which attributes of which files it imports it gives to one
    (``shared``: names a flake binds to an import), as written: where they are depends
    on each path it was added at.  Every scan that records a blob in the cache does
    (the history's, and the tree's that shares the cache), or the history never reads
    the blob again and never learns them."""
    from secretkit.scan.nix_file_refs import given_relative
    from secretkit.scan.nix_imports import import_facts, may_give_values

    store.record_refs(oid, given_relative(data))
    uses = [name for name in shared if f"{name}.".encode() in data]  # (most blobs: none)
    store.record_imports(
        oid, import_facts(data, bool(uses)) if may_give_values(data, uses) else None
    )


def walk_reading(path: str) -> Hashable:
    """What a scan of a blob may read of ``path`` whatever the blob holds
    (:func:`secretkit.scan.one_file.reading` of a text that may be a one-line secret
    file): the walk lists a blob once per distinct reading of its paths."""
    from secretkit.scan.one_file import reading

    return reading(path, True)


def alike(members: list[HistoryBlob], data: bytes | None) -> list[list[HistoryBlob]]:
    """``members`` (one blob at paths the walk reads apart) in groups whose paths read
    alike for this content (:func:`secretkit.scan.one_file.reading`; a content that
    cannot be a one-line secret file reads only its format and prose flag): each group
    is scanned once, at its first member, and the others are recorded alike.  ``data``
    None (a blob too large to hold): grouped as the walk grouped them."""
    if len(members) == 1:
        return [members]
    from secretkit.scan.one_file import one_line, reading

    line = one_line(data) if data is not None else True
    groups: dict[object, list[HistoryBlob]] = {}
    for blob in members:
        groups.setdefault(reading(blob.path, line), []).append(blob)
    return list(groups.values())


@contextlib.contextmanager
def heartbeat(
    progress: Progress | None, state: Callable[[], tuple[int, int]] = lambda: (0, 0)
) -> Iterator[None]:
    """``progress(*state())`` at least once a second while the block runs (the walk of
    the commit graph reports ``(0, 0)``; a slow batch repeats the last count)."""
    if progress is None:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(0.25):
            done, total = state()
            if done < total or total == 0:
                progress(done, total)

    thread = threading.Thread(target=beat, daemon=True)
    progress(*state())
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


BATCH_BYTES = 16 * 1024 * 1024  # blob content held at once (memory stays flat)
BATCH_FILES = 2000


class Pool:
    """A process pool for the whole history scan (forked once), or none for fewer
    than ``min_jobs`` blobs."""

    def __init__(self, jobs: int, min_jobs: int) -> None:
        self.workers = min(2, os.cpu_count() or 1)
        self.min_jobs = min_jobs
        self.executor: Any = None
        if self.workers > 1 and jobs >= min_jobs:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            from secretkit.lazy_re import compile_all
            from secretkit.nix import cst
            from secretkit.scan import nix, text_files  # noqa: F401

            cst._parser()
            compile_all()  # the workers inherit the patterns compiled
            method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
            self.executor = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context(method)
            )
            # start the workers now, before `git cat-file` runs: a worker forked later
            # would inherit the write end of its stdin and git would never see EOF
            for future in [self.executor.submit(int) for _ in range(self.workers)]:
                future.result()

    def __enter__(self) -> Pool:
        return self

    def start(
        self,
        jobs: list[Job],
        allow: Allowlist,
        max_bytes: int,
        step: int = 256,
        distinct: bool = False,
        lfs: Path | None = None,
    ) -> Started:
        """Begin scanning ``jobs`` (contents in memory) on the workers, in chunks of at
        most ``step``, if there are workers: they work while this process goes on
        (reads the next blobs); :meth:`Started.results` waits.  ``distinct``: no two
        jobs hold the same content (blobs: a content is looked up by its hash
        otherwise, for repeated commit messages)."""
        if self.executor is None or len(jobs) < self.min_jobs:
            return Started(jobs, allow, max_bytes, [], lfs)
        step = max(1, min(step, len(jobs) // (self.workers * 4) or 1))
        futures = [  # (a chunk's versions of a path are each scanned from the one before)
            self.executor.submit(
                chunk_worker, jobs[i : i + step], allow, max_bytes, None, True, distinct, lfs
            )
            for i in range(0, len(jobs), step)
        ]
        return Started(jobs, allow, max_bytes, futures, lfs)

    def __exit__(self, *exc: object) -> None:
        if self.executor is not None:
            self.executor.shutdown(cancel_futures=True)


class Started:
    """Jobs handed to :meth:`Pool.start`: their results, in job order."""

    def __init__(
        self,
        jobs: list[Job],
        allow: Allowlist,
        max_bytes: int,
        futures: list[Any],
        lfs: Path | None = None,
    ) -> None:
        self.jobs, self.allow, self.max_bytes, self.futures = jobs, allow, max_bytes, futures
        self.lfs = lfs

    def results(self, tick: Callable[[int], None] = lambda n: None) -> list[Result]:
        if not self.futures:  # no pool: scanned here, now
            from secretkit.scan.versions import Versions

            out = []
            versions = Versions()
            for job in self.jobs:
                out.append(scan_file_job(job, self.allow, self.max_bytes, None, versions, self.lfs))
                tick(1)
            return out
        results: list[Result] = []
        for future in self.futures:
            chunk = future.result()
            results.extend(chunk)
            tick(len(chunk))
        return results


class Messages:
    """The commit messages to scan: those the cache does not know clean (a commit id
    covers its message), read by a thread while this process walks the commit graph
    (``read(skip)`` gives the jobs of every commit but those ``skip`` names);
    :meth:`start` hands them to the pool, :meth:`settle` takes the results."""

    def __init__(
        self,
        read: Callable[[Callable[[str], bool]], list[Job]],
        store: HistoryCache,
        allow: Allowlist,
        max_bytes: int,
    ) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.store, self.allow, self.max_bytes = store, allow, max_bytes
        reader = ThreadPoolExecutor(max_workers=1)
        self._read = reader.submit(read, store.message_clean)
        reader.shutdown(wait=False)  # (the thread ends with its one job)
        self.jobs: list[Job] | None = None
        self.started: Started | None = None

    def count(self, also: Future[Any] | None = None) -> int:
        """How many messages are to be scanned (waits for them to be read, and for
        ``also``, another reading thread: the pool forks next)."""
        if self.jobs is None:
            self.jobs = self._read.result()
        if also is not None:
            also.exception()  # (waits; its result is asked later)
        return len(self.jobs)

    def start(self, pool: Pool) -> None:
        self.count()
        assert self.jobs is not None
        self.started = pool.start(self.jobs, self.allow, self.max_bytes)

    def settle(self, report: ScanReport) -> None:
        """The findings into ``report``; each clean message recorded in the cache."""
        assert self.jobs is not None and self.started is not None
        for job, (findings, skipped, _size) in zip(self.jobs, self.started.results(), strict=True):
            report.findings.extend(findings)
            if not findings and skipped is None:
                self.store.record_message_clean(str(job[3]))


def start_batch(
    batch: list[tuple[list[HistoryBlob], bytes]],
    allow: Allowlist,
    max_bytes: int,
    pool: Pool,
    lfs: Path | None = None,
) -> Started:
    """Begin scanning one batch of blobs, each at the first of its group of paths that
    read alike (:func:`alike`; :func:`finish_batch` takes the results)."""
    jobs: list[Job] = [(group[0].path, None, data, group[0].commit) for group, data in batch]
    return pool.start(jobs, allow, max_bytes, step=64, distinct=True, lfs=lfs)


def finish_batch(
    batch: list[tuple[list[HistoryBlob], bytes]],
    started: Started,
    report: ScanReport,
    store: HistoryCache,
    tick: Callable[[int], None],
) -> None:
    """The results of one batch, each attributed to its blob (for the cache)."""
    results = started.results(tick)
    for (group, data), (findings, skipped, size) in zip(batch, results, strict=True):
        reason = skipped.reason if skipped is not None else None
        spans = _spans(findings, data, group[0].path) if findings and skipped is None else None
        settle(group, report, store, findings, reason, size, spans)


def settle(
    group: list[HistoryBlob],
    report: ScanReport,
    store: HistoryCache,
    findings: list[Finding],
    skipped: str | None,
    size: int,
    spans: list[dict[str, object]] | None = None,
) -> None:
    """What the scan of a group's first member gave (:func:`alike`): its findings are
    reported once, and every member is recorded in the cache (so a later run reads
    them alike) and counted; a skip is reported for each member, as a later run
    reports what the cache holds."""
    from secretkit.scan.one_file import partly_read

    report.findings.extend(findings)
    if skipped is not None and partly_read(skipped):  # (not reported: see partly_read)
        # nor recorded clean (the tree's scan of the same blob reads it, and says so):
        # recorded flagged, without spans, so every run reads it again
        report.stats["files"] += len(group)
        report.stats["bytes"] += size
        for blob in group:
            store.record_found(blob.oid, blob.commit, blob.path, [f.rule for f in findings])
        return
    report.stats["bytes"] += size if skipped is None else 0  # (read once)
    rules = [f.rule for f in findings]
    for blob in group:
        if skipped is not None:
            report.skipped.append(Skipped(f"{blob.commit[:12]}:{blob.path}", skipped))
            if findings:  # (an archive read in part: recorded found, so read again)
                store.record_found(blob.oid, blob.commit, blob.path, rules, None)
            else:
                store.record_skip(blob.oid, blob.commit, blob.path, skipped)
            continue
        report.stats["files"] += 1
        if findings:
            store.record_found(blob.oid, blob.commit, blob.path, rules, spans)
        else:
            store.record_clean(blob.oid, blob.path)
