"""Scanning entry points: one file's bytes, the work tree, the index, the history.

Heavy parts load lazily: tree-sitter only when a ``.nix`` file is scanned,
detect-secrets only when a text could hold a vendor token.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.scan.allowlist import Allowlist
from secretkit.scan.hits import Hit
from secretkit.scan.model import Finding, ScanReport, Skipped
from secretkit.sensitive import Sensitive, preview

if TYPE_CHECKING:
    from secretkit.git.objects import HistoryBlob

MAX_BYTES = 1024 * 1024
PARALLEL_MIN_FILES = 48
PARALLEL_MIN_BYTES = 512 * 1024

Progress = Callable[[int, int], None]
Job = tuple[str, str | None, bytes | None, str | None]  # path, file on disk, content, commit


def _skip_reason(data: bytes, limit: int) -> str | None:
    if len(data) > limit:
        return f"larger than {limit // 1024} KiB"
    if b"\0" in data[:8192]:
        return "binary"
    return None


def scan_bytes(
    path: str,
    data: bytes,
    *,
    allow: Allowlist | None = None,
    commit: str | None = None,
    max_bytes: int = MAX_BYTES,
) -> tuple[list[Finding], Skipped | None]:
    """Findings in one file's content; ``path`` (repo-relative) picks the file type."""
    reason = _skip_reason(data, max_bytes)
    if reason is not None:
        return [], Skipped(path, reason)
    allow = allow or Allowlist()
    from secretkit.scan.text import file_format

    fmt = file_format(path)
    if fmt == "nix":
        from secretkit.scan.nix import scan_nix

        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return [], Skipped(path, "not UTF-8")
        hits, _errors = scan_nix(data)
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return [], Skipped(path, "not UTF-8")
        from secretkit.scan.text import char_to_byte, scan_text

        hits = char_to_byte(text, data, scan_text(text, path))
    findings = []
    for hit in hits:
        raw = data[hit.start : hit.end]
        value = _value_of(raw, hit)
        fp = allow.fingerprint(value)
        if allow.allows(fp):
            continue
        line, column = _position(data, hit.start)
        end_line, end_column = _position(data, hit.end)
        findings.append(
            Finding(
                path=path,
                line=line,
                column=column,
                end_line=end_line,
                end_column=end_column,
                rule=hit.rule,
                kind=hit.kind,
                severity=hit.severity,
                attrpath=hit.attrpath,
                commit=commit,
                fingerprint=fp,
                preview=preview(value),
                start=hit.start,
                end=hit.end,
                secret=Sensitive(value),
            )
        )
    return findings, None


def _value_of(raw: bytes, hit: Hit) -> str:
    """The secret as the program using it sees it (Nix escapes resolved)."""
    if hit.value is not None:
        return hit.value
    return raw.decode("utf-8", "replace")


def _position(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    line = data.count(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return line, column


# ---------------------------------------------------------------------------
# many files
# ---------------------------------------------------------------------------


def _scan_file_job(
    job: Job, allow: Allowlist, max_bytes: int
) -> tuple[list[Finding], Skipped | None, int]:
    """(path, absolute file or None, content or None, commit)"""
    path, file, data, commit = job
    if data is None:
        assert file is not None
        try:
            info = os.lstat(file)
            if not stat.S_ISREG(info.st_mode):
                return [], None, -1  # symlinks, submodules, deleted files: nothing to scan
            size = info.st_size
            if size > max_bytes:
                return [], Skipped(path, f"larger than {max_bytes // 1024} KiB"), size
            with open(file, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            return [], None, -1  # tracked but deleted in the work tree
        except OSError as exc:
            return [], Skipped(path, f"unreadable ({exc.strerror or 'error'})"), 0
    findings, skipped = scan_bytes(path, data, allow=allow, commit=commit, max_bytes=max_bytes)
    return findings, skipped, len(data)


def _chunk_worker(
    jobs: list[Job],
    allow: Allowlist,
    max_bytes: int,
) -> list[tuple[list[Finding], Skipped | None, int]]:
    return [_scan_file_job(job, allow, max_bytes) for job in jobs]


def _run(
    jobs: list[Job],
    allow: Allowlist,
    *,
    jobs_n: int | None,
    max_bytes: int,
    progress: Progress | None = None,
) -> ScanReport:
    started = time.perf_counter()
    report = ScanReport()
    total = len(jobs)
    workers = jobs_n if jobs_n is not None else min(2, os.cpu_count() or 1)
    results: Iterable[tuple[list[Finding], Skipped | None, int]]
    if workers > 1 and total >= PARALLEL_MIN_FILES:
        results = _parallel(jobs, allow, workers, max_bytes, progress)
    else:
        results = _serial(jobs, allow, max_bytes, progress)
    for findings, skipped, size in results:
        if size < 0:
            continue
        report.findings.extend(findings)
        if skipped is not None:
            report.skipped.append(skipped)
        else:
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
) -> Iterable[tuple[list[Finding], Skipped | None, int]]:
    total = len(jobs)
    for index, job in enumerate(jobs, 1):
        yield _scan_file_job(job, allow, max_bytes)
        if progress is not None:
            progress(index, total)


def _parallel(
    jobs: list[Job],
    allow: Allowlist,
    workers: int,
    max_bytes: int,
    progress: Progress | None,
) -> Iterable[tuple[list[Finding], Skipped | None, int]]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # Load the heavy modules once, before forking, so workers inherit them.
    if any(job[0].endswith(".nix") for job in jobs):
        from secretkit.nix import cst

        cst._parser()
    from secretkit.scan import nix, text  # noqa: F401

    # Interleaved chunks: Nix files (slower per byte) and big directories spread
    # evenly over the workers.
    count = max(1, min(workers * 4, len(jobs) // 8))
    chunks = [jobs[i::count] for i in range(count)]
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    context = multiprocessing.get_context(method)
    done = 0
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_chunk_worker, chunk, allow, max_bytes) for chunk in chunks]
        for future in as_completed(futures):
            batch = future.result()
            done += len(batch)
            if progress is not None:
                progress(done, len(jobs))
            yield from batch


def _walk(root: Path) -> list[str]:
    """Every file under ``root`` (``.git`` excluded, symlinks not followed)."""
    out: list[str] = []
    top = str(root)
    for directory, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d != ".git")  # os.walk does not follow links
        rel = os.path.relpath(directory, top)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        out.extend(prefix + name for name in files)
    return sorted(out)


def _under(path: str, prefixes: Sequence[str]) -> bool:
    for prefix in prefixes:
        p = prefix.strip("/")
        if p in ("", ".") or path == p or path.startswith(p + "/"):
            return True
    return False


def scan_tree(
    root: Path,
    paths: Sequence[str] = (),
    *,
    jobs: int | None = None,
    max_bytes: int = MAX_BYTES,
    progress: Progress | None = None,
    use_cache: bool = False,
) -> ScanReport:
    """The work tree: git-tracked plus untracked-not-ignored files (a plain directory
    walk outside git).  ``paths`` (repo-relative) limit the scan.  With ``use_cache``
    (in a git repository), files whose content the history cache knows as clean under
    the same path are not scanned again (``secretkit check``)."""
    from secretkit.git import repo_root
    from secretkit.scan import allowlist

    root = Path(root)
    top = repo_root(root)
    if top is not None:
        from secretkit.git.objects import tracked_and_untracked

        base = top
        names = tracked_and_untracked(top)
        allow = allowlist.load(top)
    else:
        base = root
        names = _walk(root)
        allow = allowlist.load(root, git=False)
    if paths:
        names = [n for n in names if _under(n, paths)]
    prefix = str(base)
    if use_cache and top is not None:
        return _scan_tree_cached(top, names, allow, jobs, max_bytes, progress)
    job_list: list[Job] = [(name, os.path.join(prefix, name), None, None) for name in names]
    return _run(job_list, allow, jobs_n=jobs, max_bytes=max_bytes, progress=progress)


def _scan_tree_cached(
    top: Path,
    names: list[str],
    allow: Allowlist,
    jobs: int | None,
    max_bytes: int,
    progress: Progress | None,
) -> ScanReport:
    """:func:`scan_tree` with each file's git blob id looked up in the history cache."""
    import hashlib

    from secretkit.scan.history_cache import HistoryCache, cache_key

    store = HistoryCache.load(top, cache_key(allow.allowed, max_bytes))
    job_list: list[Job] = []
    pending: list[tuple[str, str]] = []
    known_clean = 0
    for name in names:
        full = os.path.join(str(top), name)
        try:
            info = os.lstat(full)
            if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
                job_list.append((name, full, None, None))  # the scan says why it skips
                continue
            with open(full, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            continue
        except OSError:
            job_list.append((name, full, None, None))
            continue
        oid = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
        if store.known(oid, name) == "clean":
            known_clean += 1
            continue
        job_list.append((name, None, data, None))
        pending.append((oid, name))
    report = _run(job_list, allow, jobs_n=jobs, max_bytes=max_bytes, progress=progress)
    unclean = {f.path for f in report.findings} | {s.path for s in report.skipped}
    for oid, name in pending:
        if name not in unclean:
            store.record_clean(oid, name)
    store.save()
    report.stats["files"] += known_clean
    return report


def scan_staged(root: Path, paths: Sequence[str] = (), *, max_bytes: int = MAX_BYTES) -> ScanReport:
    """The index as it will be committed (``GIT_INDEX_FILE`` honoured)."""
    from secretkit.git import require_repo
    from secretkit.git.objects import index_entries, read_blobs_limited
    from secretkit.scan import allowlist

    started = time.perf_counter()
    top = require_repo(Path(root))
    entries = [e for e in index_entries(top) if e.stage in (0, 2)]
    if paths:
        entries = [e for e in entries if _under(e.path, paths)]
    report = ScanReport()
    if not entries:
        report.stats["seconds"] = time.perf_counter() - started
        return report
    allow = allowlist.load(top)
    blobs = {
        oid: (size, data)
        for oid, size, data in read_blobs_limited(top, (e.oid for e in entries), max_bytes)
    }
    jobs: list[Job] = []
    for entry in entries:
        size, data = blobs.get(entry.oid, (0, None))
        if data is None:
            if size > max_bytes:
                report.skipped.append(Skipped(entry.path, f"larger than {max_bytes // 1024} KiB"))
            continue
        jobs.append((entry.path, None, data, None))
    sub = _run(
        jobs, allow, jobs_n=1 if len(jobs) < PARALLEL_MIN_FILES else None, max_bytes=max_bytes
    )
    report.findings = sub.findings
    report.skipped.extend(sub.skipped)
    report.stats = sub.stats
    report.stats["seconds"] = time.perf_counter() - started
    return report


def scan_history(
    root: Path,
    *,
    progress: Progress | None = None,
    max_bytes: int = MAX_BYTES,
    use_cache: bool = True,
) -> ScanReport:
    """Every blob of every commit reachable from any ref, each distinct blob once;
    findings carry the (oldest) commit that added the blob.

    Blobs are read and scanned in batches (:mod:`secretkit.scan.history_run`; memory
    stays flat on any history).  What each blob gave is remembered in the repository's
    git directory (:mod:`secretkit.scan.history_cache`): a later run scans only blobs
    it has not seen clean or skipped under the same detectors and allowlist."""
    from secretkit.git import require_repo
    from secretkit.git.objects import read_blobs_limited
    from secretkit.scan import allowlist
    from secretkit.scan.history_cache import HistoryCache, cache_key
    from secretkit.scan.history_run import (
        BATCH_BYTES,
        BATCH_FILES,
        Pool,
        heartbeat,
        history_index,
        rebuild,
        scan_batch,
    )

    started = time.perf_counter()
    top = require_repo(Path(root))
    allow = allowlist.load(top)
    key = cache_key(allow.allowed, max_bytes)
    store = HistoryCache.load(top, key) if use_cache else HistoryCache(None, key)
    with heartbeat(progress):
        blobs, clean = history_index(top, store)
    report = ScanReport()
    report.stats["files"] += clean
    todo: dict[str, HistoryBlob] = {}
    for blob in blobs:
        state = store.known(blob.oid, blob.path)
        if state == "clean":
            if not clean:
                report.stats["files"] += 1
        elif state == "skip":
            reason = store.skip_reason(blob.oid, blob.path) or "skipped"
            report.skipped.append(Skipped(f"{blob.commit[:12]}:{blob.path}", reason))
        else:
            todo[blob.oid] = blob
    total = len(blobs) + clean
    done = [total - len(todo)]

    def tick(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress(done[0], total)

    tick(0)
    batch: list[tuple[HistoryBlob, bytes]] = []
    size = 0
    workers = (_scan_file_job, _chunk_worker)
    with heartbeat(progress, lambda: (done[0], total)), Pool(len(todo), PARALLEL_MIN_FILES) as pool:
        for oid, _size, data in read_blobs_limited(top, todo, max_bytes):
            blob = todo[oid]
            if data is None:
                reason = f"larger than {max_bytes // 1024} KiB"
                report.skipped.append(Skipped(f"{blob.commit[:12]}:{blob.path}", reason))
                store.record_skip(blob.oid, blob.commit, blob.path, reason)
                tick(1)
                continue
            spans = store.spans(blob.oid, blob.path)
            if spans is not None:
                try:
                    report.findings.extend(rebuild(blob, data, spans))
                    report.stats["files"] += 1
                    tick(1)
                    continue
                except (KeyError, TypeError, ValueError):
                    pass  # a damaged entry: scan the blob again
            batch.append((blob, data))
            size += len(data)
            if size >= BATCH_BYTES or len(batch) >= BATCH_FILES:
                scan_batch(batch, allow, max_bytes, pool, report, store, tick, workers)
                batch, size = [], 0
        scan_batch(batch, allow, max_bytes, pool, report, store, tick, workers)
    store.save()
    report.findings.sort(key=lambda f: (f.path, f.commit or "", f.start))
    report.stats["seconds"] = time.perf_counter() - started
    return report
