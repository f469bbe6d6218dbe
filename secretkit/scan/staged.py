"""The index as it will be committed (what the pre-commit hook judges)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.scan.many_files import (
    MISSING_BLOB,
    PARALLEL_MIN_FILES,
    Job,
    run_jobs,
    scan_large_blobs,
)
from secretkit.scan.model import Finding, ScanReport, Skipped
from secretkit.scan.nix_imports import SHARING, staged_values
from secretkit.scan.one_file import MAX_BYTES

if TYPE_CHECKING:
    from secretkit.git.objects import IndexEntry
    from secretkit.scan.allowlist import Allowlist


def _under(path: str, prefixes: Sequence[str]) -> bool:
    for prefix in prefixes:
        p = prefix.strip("/")
        if p in ("", ".") or path == p or path.startswith(p + "/"):
            return True
    return False


def scan_staged(
    root: Path,
    paths: Sequence[str] = (),
    *,
    max_bytes: int = MAX_BYTES,
    known_top: bool = False,
    entries: Sequence[IndexEntry] | None = None,
    allow: Allowlist | None = None,
    keep: dict[str, bytes] | None = None,
) -> ScanReport:
    """The index as it will be committed (``GIT_INDEX_FILE`` honoured).  ``known_top``: the
    caller already knows ``root`` is the work tree's top; ``entries``: it already listed
    the index (``index_entries(top, modes=SCANNED_MODES)``) — one ``git`` run less each;
    ``allow``: it already loaded the allowlist (``allowlist.load(top)``), whose
    fingerprints the findings then use; ``keep``: filled with the bytes read of each
    path staged at stage 0 (``git cat-file blob :<path>``), so that the caller need not
    read them again (blobs over ``max_bytes`` are not kept)."""
    from secretkit.git import require_repo
    from secretkit.git.objects import SCANNED_MODES, index_entries, read_blobs_limited
    from secretkit.scan import allowlist

    started = time.perf_counter()
    top = Path(root) if known_top else require_repo(Path(root))
    if entries is None:
        entries = index_entries(top, modes=SCANNED_MODES)
    index = [e for e in entries if e.stage in (0, 2)]
    entries = [e for e in index if _under(e.path, paths)] if paths else index
    report = ScanReport()
    if not entries:
        report.stats["seconds"] = time.perf_counter() - started
        return report
    if allow is None:
        allow = allowlist.load(top)
    # (the files that hand modules what they import are read with them: see below)
    sharing = [e for e in index if e.path in SHARING and e.stage == 0]
    blobs = {
        oid: (size, data)
        for oid, size, data in read_blobs_limited(
            top, [e.oid for e in entries + sharing], max_bytes
        )
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
        if keep is not None and entry.stage == 0:
            keep[entry.path] = data
    from secretkit.git.lfs import objects_dir

    # (git is asked where LFS objects live only when a staged blob may be a pointer)
    pointers = any(job[2] is not None and job[2][:8] == b"version " for job in jobs)
    found, skips = scan_large_blobs(top, large, allow, None, max_bytes)
    report.findings.extend(found)
    sub = run_jobs(
        jobs,
        allow,
        jobs_n=1 if len(jobs) < PARALLEL_MIN_FILES else None,
        max_bytes=max_bytes,
        lfs=objects_dir(top) if pointers else None,
    )
    report.findings.extend(sub.findings)
    # values a staged Nix file imports from another (or hands to one) and gives to a
    # secret option: each file alone says nothing (scan/nix_imports)
    read = {e.path: blobs[e.oid][1] for e in entries + sharing if e.oid in blobs}
    oids = {e.path: e.oid for e in index if e.stage == 0}

    def read_index(names: list[str]) -> dict[str, bytes]:
        wanted = {oids[name]: name for name in names if name in oids}
        got = read_blobs_limited(top, list(wanted), max_bytes)
        return {wanted[oid]: data for oid, _size, data in got if data is not None}

    report.findings.extend(
        staged_values(
            {path: data for path, data in read.items() if data is not None},
            [e.path for e in index],
            read_index,
            allow,
            report.findings,
        )
    )
    report.findings.extend(_referenced(read, read_index, allow, report.findings))
    from secretkit.scan.names import name_findings  # (a token as a staged file's name)

    report.findings.extend(name_findings([e.path for e in entries], allow))
    report.findings.sort(key=lambda f: (f.path, f.commit or "", f.start))
    report.skipped.extend([*sub.skipped, *skips])
    report.stats = sub.stats
    report.stats["files"] += len(large) - len(skips)
    report.stats["bytes"] += sum(size for _p, _o, size in large)
    report.stats["seconds"] = time.perf_counter() - started
    return report


def _referenced(
    read: dict[str, bytes | None],
    read_index: Callable[[list[str]], dict[str, bytes]],
    allow: Allowlist,
    known: list[Finding],
) -> list[Finding]:
    """The files a staged Nix file hands to a secret option by their path
    (:mod:`secretkit.scan.nix_file_refs`), as the index holds them."""
    from secretkit.scan.nix_file_refs import given_files, referenced_secret_files

    staged = {p: d for p, d in read.items() if d is not None and p.endswith(".nix")}
    targets = {t for p, d in staged.items() for t in given_files(p, d)}
    if not targets:
        return []
    held = read_index(sorted(t for t in targets if t not in read))
    return referenced_secret_files(
        [*staged, *targets], lambda n: read.get(n) or held.get(n), allow, known
    )
