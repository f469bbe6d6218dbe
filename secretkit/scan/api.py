"""Scanning entry points: one file's bytes, the work tree, the index, the history.

Heavy parts load lazily: tree-sitter only when a ``.nix`` file is scanned,
detect-secrets only when a text could hold a vendor token.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.scan.allowlist import Allowlist
from secretkit.scan.hits import Hit
from secretkit.scan.model import Finding, ScanReport, Skipped
from secretkit.sensitive import Sensitive, preview

if TYPE_CHECKING:
    from secretkit.git.objects import HistoryBlob, IndexEntry
    from secretkit.scan.decode import Decoded

MAX_BYTES = 1024 * 1024
PARALLEL_MIN_FILES = 48
PARALLEL_MIN_BYTES = 512 * 1024

Progress = Callable[[int, int], None]
Job = tuple[str, str | None, bytes | None, str | None]  # path, file on disk, content, commit


def scan_bytes(
    path: str,
    data: bytes,
    *,
    allow: Allowlist | None = None,
    commit: str | None = None,
    max_bytes: int = MAX_BYTES,
) -> tuple[list[Finding], Skipped | None]:
    """Findings in one file's content; ``path`` (repo-relative) picks the file type.

    Nothing is skipped: text in any common encoding is decoded, binary content is
    read for its printable runs, and content over ``max_bytes`` is scanned in
    line-aligned pieces (:func:`scan_pieces`)."""
    if len(data) > max_bytes:
        view = memoryview(data)
        pieces = (bytes(view[i : i + max_bytes]) for i in range(0, len(data), max_bytes))
        return scan_pieces(path, pieces, allow=allow, commit=commit, max_bytes=max_bytes), None
    return _scan_one(path, data, allow or Allowlist(), commit), None


def scan_pieces(
    path: str,
    pieces: Iterable[bytes],
    *,
    allow: Allowlist | None = None,
    commit: str | None = None,
    max_bytes: int = MAX_BYTES,
) -> list[Finding]:
    """Findings in content handed over in ``pieces`` (a large file or blob), holding
    at most about two pieces of ``max_bytes`` in memory: the content is cut after a
    line break near each ``max_bytes`` and every part is scanned on its own
    (detectors work within lines), positions shifted to the whole content."""
    allow = allow or Allowlist()
    findings: list[Finding] = []
    base = 0
    lines_before = 0
    for part in _line_parts(pieces, max_bytes):
        for f in _scan_one(path, part, allow, commit, as_text=True):
            findings.append(
                replace(
                    f,
                    line=f.line + lines_before,
                    end_line=f.end_line + lines_before,
                    start=f.start + base,
                    end=f.end + base,
                )
            )
        base += len(part)
        lines_before += part.count(b"\n")
    return findings


def _line_parts(pieces: Iterable[bytes], size: int) -> Iterator[bytes]:
    buffer = b""
    for piece in pieces:
        buffer += piece
        while len(buffer) >= size:
            cut = buffer.rfind(b"\n", 0, size) + 1 or size
            yield buffer[:cut]
            buffer = buffer[cut:]
    if buffer:
        yield buffer


def _scan_one(
    path: str, data: bytes, allow: Allowlist, commit: str | None, *, as_text: bool = False
) -> list[Finding]:
    from secretkit.scan.decode import decode
    from secretkit.scan.text import file_format, scan_text

    fmt = file_format(path)
    decoded = decode(data)
    hits: list[Hit]
    if fmt == "nix" and not as_text and decoded.encoding == "utf-8" and b"\0" not in data:
        from secretkit.scan.nix import scan_nix

        hits, errors = scan_nix(data)
        if errors:
            # What tree-sitter could not place is still read, as text.
            taken = [(h.start, h.end) for h in hits]
            hits.extend(
                h
                for h in _text_hits(decoded, scan_text(decoded.text, path + ".txt"))
                if not any(a < h.end and h.start < b for a, b in taken)
            )
    else:
        text_path = path + ".txt" if fmt == "nix" else path
        hits = _text_hits(decoded, scan_text(decoded.text, text_path))
    findings = []
    for hit in hits:
        raw = data[hit.start : hit.end]
        value = _value_of(raw, hit)
        if allow.allowed and allow.allows(allow.fingerprint(value)):
            continue  # (the fingerprint is computed only against a non-empty list)
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
                preview=preview(value),
                start=hit.start,
                end=hit.end,
                secret=Sensitive(value),
                keyring=allow,
            )
        )
    return findings


def _text_hits(decoded: Decoded, hits: list[Hit]) -> list[Hit]:
    """Character offsets of ``decoded.text`` → byte offsets of the data; the value is
    kept as text (the bytes may be UTF-16 or Latin-1)."""
    out = []
    for hit in hits:
        start = decoded.byte_offset(hit.start)
        end = decoded.byte_offset(hit.end)
        value = hit.value if hit.value is not None else decoded.text[hit.start : hit.end]
        out.append(replace(hit, start=start, end=end, value=value))
    return out


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
            if stat.S_ISLNK(info.st_mode):
                # git stores (and publishes) a symlink as its target: scan that text.
                data = os.fsencode(os.readlink(file))
            elif not stat.S_ISREG(info.st_mode):
                return [], None, -1  # submodules, deleted files: nothing to scan
            elif info.st_size > max_bytes:
                with open(file, "rb") as handle:
                    pieces = iter(lambda: handle.read(max_bytes), b"")
                    found = scan_pieces(
                        path, pieces, allow=allow, commit=commit, max_bytes=max_bytes
                    )
                return found, None, info.st_size
            else:
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
    blobs_from: Path | None = None,
) -> list[tuple[list[Finding], Skipped | None, int]]:
    if blobs_from is not None:
        return list(_blob_jobs(blobs_from, jobs, allow, max_bytes))
    return [_scan_file_job(job, allow, max_bytes) for job in jobs]


def _blob_jobs(
    top: Path, jobs: list[Job], allow: Allowlist, max_bytes: int
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
            yield _scan_large_blobs(top, [(path, oid, size)], allow, commit, max_bytes), None, size
            continue
        findings, skipped = scan_bytes(path, data, allow=allow, commit=commit, max_bytes=max_bytes)
        yield findings, skipped, len(data)


def _run(
    jobs: list[Job],
    allow: Allowlist,
    *,
    jobs_n: int | None,
    max_bytes: int,
    progress: Progress | None = None,
    blobs_from: Path | None = None,
) -> ScanReport:
    """Scan ``jobs``; with ``blobs_from`` (a repository) each job's ``file`` is the oid
    of a blob of it, read where the job runs."""
    started = time.perf_counter()
    report = ScanReport()
    total = len(jobs)
    workers = jobs_n if jobs_n is not None else min(2, os.cpu_count() or 1)
    results: Iterable[tuple[list[Finding], Skipped | None, int]]
    if workers > 1 and total >= PARALLEL_MIN_FILES:
        results = _parallel(jobs, allow, workers, max_bytes, progress, blobs_from)
    else:
        results = _serial(jobs, allow, max_bytes, progress, blobs_from)
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
    blobs_from: Path | None = None,
) -> Iterable[tuple[list[Finding], Skipped | None, int]]:
    total = len(jobs)
    results: Iterable[tuple[list[Finding], Skipped | None, int]] = (
        _blob_jobs(blobs_from, jobs, allow, max_bytes)
        if blobs_from is not None
        else (_scan_file_job(job, allow, max_bytes) for job in jobs)
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
    count = max(1, min(workers * 16, len(jobs) // 8))  # small chunks: a short tail
    if blobs_from is not None:
        count = max(count, len(jobs) // 256)  # a history: progress every few hundred blobs
    chunks = [jobs[i::count] for i in range(count)]
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    context = multiprocessing.get_context(method)
    done = 0
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [
            pool.submit(_chunk_worker, chunk, allow, max_bytes, blobs_from) for chunk in chunks
        ]
        for future in as_completed(futures):
            batch = future.result()
            done += len(batch)
            if progress is not None:
                progress(done, len(jobs))
            yield from batch


def _walk(root: Path, under: str = "") -> list[str]:
    """Every file under ``root``/``under`` (``.git`` excluded, symlinks not followed),
    relative to ``root``; ``under`` may name one file.  Symlinks to directories are
    listed (and scanned as links), never walked.  One ``scandir`` per directory: the
    entries' types come with the listing, no ``stat`` per file."""
    top = str(root)
    start = os.path.join(top, under) if under else top
    if under and (not os.path.isdir(start) or os.path.islink(start)):
        return [under] if os.path.lexists(start) else []
    rel = os.path.relpath(start, top)
    out: list[str] = []
    stack = [(start, "" if rel == "." else rel.replace(os.sep, "/") + "/")]
    while stack:
        directory, prefix = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue  # unreadable: as os.walk, skipped
        for entry in entries:
            try:
                if entry.name == ".git" and entry.is_dir():
                    continue
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, prefix + entry.name + "/"))
                    continue
            except OSError:
                pass
            out.append(prefix + entry.name)
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
    explicit: bool = False,
    use_cache: bool = False,
) -> ScanReport:
    """The work tree: git-tracked plus untracked-not-ignored files (a plain directory
    walk outside git).  ``paths`` (relative to ``root``) limit the scan to them and
    only them are listed.  ``explicit``: the user named ``paths``, so one the
    repository ignores is walked and scanned all the same.  With ``use_cache`` (in a
    git repository), files whose content the history cache knows as clean under the
    same path are not scanned again (``secretkit check``)."""
    from secretkit.git import repo_root
    from secretkit.scan import allowlist

    root = Path(root)
    top = repo_root(root)
    wanted = [p.strip("/") for p in paths if p.strip("/") not in ("", ".")]
    whole = not paths or len(wanted) < len(paths)
    if top is not None:
        from secretkit.git.objects import ignored, tracked_and_untracked

        base = top
        names = tracked_and_untracked(top, [] if whole else wanted)
        if explicit and not whole:
            for path in sorted(ignored(top, wanted)):
                names = sorted({*names, *_walk(top, path)})
        allow = allowlist.load(top)
    else:
        base = root
        names = _walk(root) if whole else sorted({n for p in wanted for n in _walk(root, p)})
        allow = allowlist.load(root, git=False)
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


def scan_staged(
    root: Path,
    paths: Sequence[str] = (),
    *,
    max_bytes: int = MAX_BYTES,
    known_top: bool = False,
    entries: Sequence[IndexEntry] | None = None,
) -> ScanReport:
    """The index as it will be committed (``GIT_INDEX_FILE`` honoured).  ``known_top``: the
    caller already knows ``root`` is the work tree's top; ``entries``: it already listed
    the index (``index_entries(top, modes=SCANNED_MODES)``) — one ``git`` run less each."""
    from secretkit.git import require_repo
    from secretkit.git.objects import SCANNED_MODES, index_entries, read_blobs_limited
    from secretkit.scan import allowlist

    started = time.perf_counter()
    top = Path(root) if known_top else require_repo(Path(root))
    if entries is None:
        entries = index_entries(top, modes=SCANNED_MODES)
    entries = [e for e in entries if e.stage in (0, 2)]
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
    large: list[tuple[str, str, int]] = []
    for entry in entries:
        if entry.oid not in blobs:
            report.skipped.append(Skipped(entry.path, MISSING_BLOB))
            continue
        size, data = blobs[entry.oid]
        if data is None:
            large.append((entry.path, entry.oid, size))
            continue
        jobs.append((entry.path, None, data, None))
    report.findings.extend(_scan_large_blobs(top, large, allow, None, max_bytes))
    sub = _run(
        jobs, allow, jobs_n=1 if len(jobs) < PARALLEL_MIN_FILES else None, max_bytes=max_bytes
    )
    report.findings.extend(sub.findings)
    report.findings.sort(key=lambda f: (f.path, f.commit or "", f.start))
    report.skipped.extend(sub.skipped)
    report.stats = sub.stats
    report.stats["files"] += len(large)
    report.stats["bytes"] += sum(size for _p, _o, size in large)
    report.stats["seconds"] = time.perf_counter() - started
    return report


# A blob the index or a commit names that git cannot read (a partial or damaged clone).
MISSING_BLOB = "its content is missing from the git object store"


def _scan_large_blobs(
    top: Path,
    large: list[tuple[str, str, int]],
    allow: Allowlist,
    commit: str | None,
    max_bytes: int,
) -> list[Finding]:
    """Findings in blobs over ``max_bytes`` ``(path, oid, size)``, streamed from git."""
    from secretkit.git.objects import stream_blob

    found: list[Finding] = []
    for path, oid, _size in large:
        pieces = stream_blob(top, oid, max_bytes)
        found.extend(scan_pieces(path, pieces, allow=allow, commit=commit, max_bytes=max_bytes))
    return found


def scan_history(
    root: Path,
    *,
    progress: Progress | None = None,
    max_bytes: int = MAX_BYTES,
    every_ref: bool = False,
    use_cache: bool = True,
) -> ScanReport:
    """Every blob of every commit reachable from any ref, each distinct blob once;
    findings carry the (oldest) commit that added the blob.  purge's backup refs are
    left out unless ``every_ref``.  Commit and tag messages, tags of blobs or trees and
    notes are read as well (:mod:`secretkit.scan.history`).

    Blobs are read and scanned in batches (:mod:`secretkit.scan.history_run`; memory
    stays flat on any history); a blob over ``max_bytes`` is streamed from git and
    scanned in pieces.  What each blob gave is remembered in the repository's git
    directory (:mod:`secretkit.scan.history_cache`): a later run scans only blobs it
    has not seen clean or skipped under the same detectors and allowlist."""
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
        blobs, clean = history_index(top, store, every_ref=every_ref)
    report = ScanReport()
    report.stats["files"] += clean
    todo: dict[str, HistoryBlob] = {}
    for blob in blobs:
        state = store.known(blob.oid, blob.path)
        if state == "clean":
            if not clean:
                report.stats["files"] += 1
        elif state == "skip" and store.skip_reason(blob.oid, blob.path) != MISSING_BLOB:
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
        seen: set[str] = set()
        for oid, _size, data in read_blobs_limited(top, todo, max_bytes):
            blob = todo[oid]
            seen.add(oid)
            if data is None:  # over max_bytes: streamed from git, scanned in pieces
                large = [(blob.path, oid, _size)]
                report.findings.extend(_scan_large_blobs(top, large, allow, blob.commit, max_bytes))
                report.stats["files"] += 1
                report.stats["bytes"] += _size
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
    for oid, blob in todo.items():  # git could not give it: never silence
        if oid not in seen:  # remembered so a later run asks git for it again
            report.skipped.append(Skipped(f"{blob.commit[:12]}:{blob.path}", MISSING_BLOB))
            store.record_skip(blob.oid, blob.commit, blob.path, MISSING_BLOB)
            tick(1)
    store.save()
    from secretkit.scan.history import message_and_tag_findings

    report.findings.extend(message_and_tag_findings(top, allow, every_ref=every_ref))
    report.findings.sort(key=lambda f: (f.path, f.commit or "", f.start))
    report.stats["seconds"] = time.perf_counter() - started
    return report
