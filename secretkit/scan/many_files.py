"""Scanning many files: jobs (a file on disk, content in memory, or a blob of a
repository) run one after the other or in a process pool, results gathered into one
:class:`~secretkit.scan.model.ScanReport`."""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secretkit.scan import archives
from secretkit.scan.allowlist import Allowlist
from secretkit.scan.model import Finding, ScanReport, Skipped
from secretkit.scan.one_file import partly_read, scan_bytes, scan_pieces

PARALLEL_MIN_FILES = 48
PARALLEL_MIN_BYTES = 512 * 1024

Progress = Callable[[int, int], None]
Job = tuple[str, str | None, bytes | None, str | None]  # path, file on disk, content, commit
Result = tuple[list[Finding], Skipped | None, int]  # size -1: nothing there to scan
# A second reader's interest in the bytes the scan reads anyway: the paths whose
# content it holds true are gathered (nix_imports: the files that may import values).
Mark = Callable[[str, bytes], bool]

# A blob the index or a commit names that git cannot read (a partial or damaged clone).
MISSING_BLOB = "its content is missing from the git object store"


# What the scan of one content gave, by (the reader its file name picks, digest),
# with the path it was scanned at: a file's copies (vendored, repeated per host, a
# tree copied beside itself) are read but not scanned again where their paths read
# alike (one_file.reading: the names the prose and secret-file rules read too).
# [first path, findings, one_line or None, skip or None]
Seen = dict[tuple[str, bool, int, bytes], list[Any]]
# A content up to this size is its own key in ``Seen`` (a dict hashes it in C; no
# OpenSSL to load in each worker); a larger one is keyed by its SHA-256.  A chunk
# holds a few hundred files at most: what the keys keep alive stays small.
SEEN_RAW_BYTES = 64 * 1024
if TYPE_CHECKING:
    from secretkit.scan.versions import Versions


def scan_file_job(
    job: Job,
    allow: Allowlist,
    max_bytes: int,
    seen: Seen | None = None,
    versions: Versions | None = None,
    lfs: Path | None = None,
    mark: tuple[Mark, list[str]] | None = None,
) -> tuple[list[Finding], Skipped | None, int]:
    """(path, absolute file or None, content or None, commit); ``seen``: contents
    already scanned in this run (filled as it goes); ``versions``, ``lfs``: see
    :func:`secretkit.scan.one_file.scan_bytes`; ``mark``: (test, paths): the job's
    path is added to ``paths`` when ``test`` holds for it and its content (a file
    read whole: one over ``max_bytes`` is not)."""
    path, file, data, commit = job
    if data is None:
        assert file is not None
        try:
            info = os.lstat(file)
            if stat.S_ISLNK(info.st_mode):
                # git stores (and publishes) a symlink as its target: scan that text.
                data = os.fsencode(os.readlink(file))
            elif not stat.S_ISREG(info.st_mode):
                return [], None, -1  # submodules, deleted files: nothing to scan
            elif info.st_size > max_bytes:
                with open(file, "rb") as handle:
                    head = handle.read(archives.HEAD_BYTES)
                    if archives.kind(head) is None:
                        handle.seek(0)
                        pieces = iter(lambda: handle.read(max_bytes), b"")
                        found = scan_pieces(
                            path, pieces, allow=allow, commit=commit, max_bytes=max_bytes
                        )
                        return found, None, info.st_size
                    # an archive: opened whole (scan_bytes refuses one over its cap)
                    data = head + handle.read(archives.MAX_INPUT + 1 - len(head))
            else:
                with open(file, "rb") as handle:
                    data = handle.read()
        except FileNotFoundError:
            return [], None, -1  # tracked but deleted in the work tree
        except OSError as exc:
            return [], Skipped(path, f"unreadable ({exc.strerror or 'error'})"), 0
    if mark is not None and mark[0](path, data):
        mark[1].append(path)
    if seen is None:
        findings, skipped = scan_bytes(
            path, data, allow=allow, commit=commit, max_bytes=max_bytes, versions=versions, lfs=lfs
        )
        return findings, skipped, len(data)
    from secretkit.scan.formats import file_format
    from secretkit.scan.one_file import one_line, reading
    from secretkit.scan.path_rules import prose_file

    fmt = file_format(path)  # (and whether a text is prose: cheap, so part of the key)
    if len(data) <= SEEN_RAW_BYTES:
        content = data
    else:
        import hashlib

        content = hashlib.sha256(data).digest()
    # (the length tells a content from a digest: no small file stands for a large one)
    key = (fmt, fmt == "text" and prose_file(path), len(data), content)
    known = seen.get(key)
    if known is not None and known[0] != path:
        if known[2] is None:  # (asked once per content, and only of a repeated one)
            known[2] = one_line(data)
        # (format and prose are in the key: the name and directory can differ only
        # for a text that may be a one-line secret file)
        if known[2] and reading(known[0]) != reading(path):
            known = None  # the path reads otherwise: scanned at it (the first is kept)
    if known is None:
        found, skipped = scan_bytes(
            path, data, allow=allow, commit=commit, max_bytes=max_bytes, versions=versions, lfs=lfs
        )
        seen.setdefault(key, [path, found, None, skipped])
        return found, skipped, len(data)
    first = known[0]
    skip = known[3] if len(known) > 3 else None
    # (a member of an archive is found at ``archive!member``: the suffix is kept)
    return (
        [replace(f, path=path + f.path[len(first) :], commit=commit) for f in known[1]],
        replace(skip, path=path) if skip is not None else None,
        len(data),
    )


def chunk_worker(
    jobs: list[Job],
    allow: Allowlist,
    max_bytes: int,
    blobs_from: Path | None = None,
    follow_versions: bool = False,
    distinct: bool = False,
    lfs: Path | None = None,
    mark: tuple[Mark, list[str]] | None = None,
) -> list[tuple[list[Finding], Skipped | None, int]]:
    """``follow_versions``: jobs come grouped by path (a history's blobs), each
    blob scanned from the one before it (:mod:`secretkit.scan.versions`).  ``distinct``:
    no two jobs hold the same content (a history's blobs): none is looked up.
    ``mark``: see :func:`scan_file_job` (files on disk only)."""
    if blobs_from is not None:
        return list(_blob_jobs(blobs_from, jobs, allow, max_bytes, lfs))
    seen: Seen | None = None if distinct else {}
    versions = None
    if follow_versions:
        from secretkit.scan.versions import Versions

        versions = Versions()
    return [scan_file_job(job, allow, max_bytes, seen, versions, lfs, mark) for job in jobs]


def _blob_jobs(
    top: Path, jobs: list[Job], allow: Allowlist, max_bytes: int, lfs: Path | None = None
) -> Iterator[tuple[list[Finding], Skipped | None, int]]:
    """Jobs naming a blob (``file`` is its oid), read by this process from its own
    ``git cat-file --batch``: contents never travel between processes and only the
    blob being scanned is in memory."""
    from secretkit.git.objects import read_blobs_limited

    reader = read_blobs_limited(top, (job[1] or "" for job in jobs), max_bytes)
    pending = next(reader, None)
    for path, oid, _data, commit in jobs:
        if pending is None or pending[0] != oid:
            where = f"{commit[:12]}:{path}" if commit else path
            yield [], Skipped(where, MISSING_BLOB), 0
            continue
        _oid, size, data = pending
        pending = next(reader, None)
        if data is None:
            found, skips = scan_large_blobs(top, [(path, oid, size)], allow, commit, max_bytes)
            yield found, (skips[0] if skips else None), size
            continue
        findings, skipped = scan_bytes(
            path, data, allow=allow, commit=commit, max_bytes=max_bytes, lfs=lfs
        )
        yield findings, skipped, len(data)


def run_jobs(
    jobs: list[Job],
    allow: Allowlist,
    *,
    jobs_n: int | None,
    max_bytes: int,
    progress: Progress | None = None,
    blobs_from: Path | None = None,
    lfs: Path | None = None,
    mark: tuple[Mark, list[str]] | None = None,
) -> ScanReport:
    """Scan ``jobs``; with ``blobs_from`` (a repository) each job's ``file`` is the oid
    of a blob of it, read where the job runs; ``lfs``: the repository's LFS object
    store (:func:`secretkit.git.lfs.objects_dir`); ``mark``: (test, paths): the paths
    of the files read whose content ``test`` holds true are added to ``paths``, in
    this process (not with ``blobs_from``)."""
    started = time.perf_counter()
    report = ScanReport()
    total = len(jobs)
    workers = jobs_n if jobs_n is not None else min(2, os.cpu_count() or 1)
    results: Generator[tuple[list[Finding], Skipped | None, int], None, None]
    if workers > 1 and total >= PARALLEL_MIN_FILES and hasattr(os, "fork"):
        results = _parallel(jobs, allow, workers, max_bytes, progress, blobs_from, lfs, mark)
    else:
        results = _serial(jobs, allow, max_bytes, progress, blobs_from, lfs, mark)
    # closed here, not when an exception's traceback lets it go (late, or at exit, or
    # never when it is in a cycle): the parallel one's workers stop on closing
    with contextlib.closing(results):
        for findings, skipped, size in results:
            if size < 0:
                continue
            # Findings from a worker hold a copy of the allowlist: key them to this one,
            # whose key (one git call) is then derived at most once.
            report.findings.extend(
                f if f.keyring is allow else replace(f, keyring=allow) for f in findings
            )
            if skipped is not None:
                report.skipped.append(skipped)
            if skipped is None or partly_read(skipped.reason):  # (read, if not whole)
                report.stats["files"] += 1
                report.stats["bytes"] += size
    report.findings.sort(key=lambda f: (f.path, f.commit or "", f.start))
    report.stats["seconds"] = time.perf_counter() - started
    return report


def _serial(
    jobs: list[Job],
    allow: Allowlist,
    max_bytes: int,
    progress: Progress | None,
    blobs_from: Path | None = None,
    lfs: Path | None = None,
    mark: tuple[Mark, list[str]] | None = None,
) -> Generator[tuple[list[Finding], Skipped | None, int], None, None]:
    total = len(jobs)
    seen: Seen | None = {} if total > 1 else None  # (one file: nothing to compare)
    results: Iterable[tuple[list[Finding], Skipped | None, int]] = (
        _blob_jobs(blobs_from, jobs, allow, max_bytes, lfs)
        if blobs_from is not None
        else (scan_file_job(job, allow, max_bytes, seen, None, lfs, mark) for job in jobs)
    )
    for index, result in enumerate(results, 1):
        yield result
        if progress is not None:
            progress(index, total)


def _parallel(
    jobs: list[Job],
    allow: Allowlist,
    workers: int,
    max_bytes: int,
    progress: Progress | None,
    blobs_from: Path | None = None,
    lfs: Path | None = None,
    mark: tuple[Mark, list[str]] | None = None,
) -> Generator[tuple[list[Finding], Skipped | None, int], None, None]:
    from secretkit.scan.forkpool import imap_unordered

    # Load the heavy modules once, before forking, so workers inherit them.
    if any(job[0].endswith(".nix") for job in jobs):
        from secretkit.nix import cst

        cst._parser()
    from secretkit.lazy_re import compile_all
    from secretkit.scan import nix, text_files  # noqa: F401

    compile_all()  # the workers inherit the patterns compiled
    count = max(1, min(workers * 16, len(jobs) // 8))  # small chunks: a short tail
    if blobs_from is not None:
        # a history: interleaved chunks, progress every few hundred blobs
        count = max(count, len(jobs) // 256)
        chunks = [jobs[i::count] for i in range(count)]
    else:
        chunks = _by_name(jobs, count)
    done = 0

    def work(index: int) -> tuple[list[tuple[list[Finding], Skipped | None, int]], list[str]]:
        # in a worker forked with ``chunks``: only the index, the results and the
        # marked paths travel
        marked: list[str] = []
        here = (mark[0], marked) if mark is not None else None
        found = chunk_worker(chunks[index], allow, max_bytes, blobs_from, False, False, lfs, here)
        return found, marked

    for batch, marked in imap_unordered(work, len(chunks), workers):
        if mark is not None:
            mark[1].extend(marked)
        done += len(batch)
        if progress is not None:
            progress(done, len(jobs))
        yield from batch


def _by_name(jobs: list[Job], count: int) -> list[list[Job]]:
    """``jobs`` in ``count`` chunks of about equal length, files of one name kept in
    one chunk (copies of a file usually share its name, and a chunk scans a content
    once), each name's files spread over chunks when there are more than a chunk
    holds; Nix files (slower per byte) and big directories end up spread evenly."""
    import heapq

    groups: dict[str, list[Job]] = {}
    for job in jobs:
        groups.setdefault(job[0].rsplit("/", 1)[-1], []).append(job)
    size = -(-len(jobs) // count)
    chunks: list[list[Job]] = [[] for _ in range(count)]
    heap = [(0, i) for i in range(count)]
    for group in sorted(groups.values(), key=len, reverse=True):
        if len(group) > size:
            # split below: copies of a file (``a/x/default.nix``, ``b/x/default.nix``)
            # end in the same directories, so sorted by their path read from its end
            # they sit side by side and land in one chunk, scanned once (issue 15: by
            # path order a tree of 8 copies had each content scanned 2.3 times)
            group.sort(key=_from_the_end)
        for at in range(0, len(group), size):
            filled, index = heapq.heappop(heap)
            piece = group[at : at + size]
            chunks[index].extend(piece)
            heapq.heappush(heap, (filled + len(piece), index))
    return [chunk for chunk in chunks if chunk]


def _from_the_end(job: Job) -> list[str]:
    return job[0].split("/")[::-1]


def scan_large_blobs(
    top: Path,
    large: list[tuple[str, str, int]],
    allow: Allowlist,
    commit: str | None,
    max_bytes: int,
) -> tuple[list[Finding], list[Skipped]]:
    """Findings in blobs over ``max_bytes`` ``(path, oid, size)``, streamed from git;
    an archive is gathered whole and opened (:func:`scan_bytes`), up to its cap.  (An
    LFS pointer is never this large.)"""
    from secretkit.git.objects import stream_blob

    found: list[Finding] = []
    skips: list[Skipped] = []
    for path, oid, _size in large:
        pieces = stream_blob(top, oid, max_bytes)
        head = next(pieces, b"")
        if archives.kind(head) is not None:
            data = head
            for piece in pieces:  # (read to the end: the git process then exits)
                if len(data) <= archives.MAX_INPUT:
                    data += piece
            findings, skipped = scan_bytes(
                path, data, allow=allow, commit=commit, max_bytes=max_bytes
            )
            found.extend(findings)
            skips.extend([skipped] if skipped is not None else [])
            continue
        held = [head]
        del head  # (handed on without keeping it: memory stays at about two pieces)
        pieces = _prepend(held, pieces)
        found.extend(scan_pieces(path, pieces, allow=allow, commit=commit, max_bytes=max_bytes))
    return found, skips


def _prepend(held: list[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    """The piece in ``held`` (dropped once handed on), then ``rest``."""
    yield held.pop()
    yield from rest
