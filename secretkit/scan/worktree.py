"""The work tree: every tracked and untracked-not-ignored file (a plain directory
walk outside git), optionally only files the history cache does not know as clean."""

from __future__ import annotations

import os
import stat
from collections.abc import Container, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.scan.allowlist import Allowlist
from secretkit.scan.archives import SEP
from secretkit.scan.many_files import Job, Mark, Progress, run_jobs
from secretkit.scan.model import Finding, ScanReport
from secretkit.scan.one_file import MAX_BYTES

if TYPE_CHECKING:
    from secretkit.scan.history_cache import HistoryCache


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
    from secretkit.git.lfs import objects_dir
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
    staged = _not_checked_out(top, names) if top is not None else {}
    # (a file that is an LFS pointer — git-lfs is not installed, or the file was not
    # pulled — is read from the store: its content is what a push uploads)
    lfs = objects_dir(top) if top is not None else None
    from secretkit.scan.nix_file_refs import gives_files, referenced_secret_files
    from secretkit.scan.nix_imports import imported_values, may_give

    def read(name: str) -> bytes | None:
        if name in staged:
            return staged[name]
        return _small_file(os.path.join(prefix, name), max_bytes)

    # values a Nix file imports from another and gives to a secret option: the files
    # that may give one are marked as the scan reads them (every .nix file is read
    # again for it where the cache leaves files unread)
    candidates: list[str] | None = None
    if use_cache and top is not None:
        report = _scan_tree_cached(top, names, allow, jobs, max_bytes, progress, staged, lfs)
    else:
        job_list: list[Job] = [
            (name, None, staged[name], None)
            if name in staged
            else (name, os.path.join(prefix, name), None, None)
            for name in names
        ]
        candidates = []
        mark = (
            (_either(may_give(read), gives_files), candidates)
            if any(n.endswith(".nix") for n in names)
            else None
        )
        report = run_jobs(
            job_list, allow, jobs_n=jobs, max_bytes=max_bytes, progress=progress, lfs=lfs,
            mark=mark,
        )  # fmt: skip
    report.findings.extend(imported_values(names, read, allow, report.findings, candidates))
    # files a Nix file hands to a secret option by their path (`passwordFile = ./pw`)
    report.findings.extend(referenced_secret_files(names, read, allow, report.findings, candidates))
    from secretkit.scan.names import name_findings  # (a token as a file's name)

    report.findings.extend(name_findings(names, allow))
    return report


def _note_nix_facts(
    top: Path, store: HistoryCache, blobs: list[tuple[str, str]], staged: dict[str, bytes]
) -> None:
    """:func:`~secretkit.scan.history_run.note_nix_facts` of the ``.nix`` blobs this
    scan recorded in the history cache: the history scan reads no blob the cache knows."""
    from secretkit.scan.history_run import note_nix_facts
    from secretkit.scan.nix_imports import SHARING, bound_imports

    shared = {
        n for s in SHARING for n in bound_imports(s, _small_file(str(top / s), 1 << 20) or b"")
    }
    for oid, name in blobs:
        data = staged.get(name) or _small_file(os.path.join(str(top), name), 1 << 24)
        if data is None:
            continue
        note_nix_facts(store, oid, data, shared)
        store.add_ref_paths({oid: {name}})


def _either(first: Mark, second: Mark) -> Mark:
    """A mark for the files either test marks (each pass then reads those again)."""
    return lambda path, data: first(path, data) or second(path, data)


def _small_file(full: str, max_bytes: int) -> bytes | None:
    """A regular file's bytes, None when it is not one, is larger or cannot be read."""
    try:
        info = os.lstat(full)
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        with open(full, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _not_checked_out(top: Path, names: list[str]) -> dict[str, bytes]:
    """The staged bytes of tracked files a sparse checkout leaves out of the work tree
    (git's skip-worktree bit): a commit or a push still carries them (``git add -A``
    keeps them), so they are scanned from the index, not passed over as vanished.  A
    file deleted in the work tree is left out, as ``git add -A`` would delete it."""
    prefix = str(top)
    absent = [n for n in names if not os.path.lexists(os.path.join(prefix, n))]
    if not absent:
        return {}
    from secretkit.git.hooks import index_contents
    from secretkit.git.objects import skip_worktree

    sparse = skip_worktree(top, absent)
    return index_contents(top, sorted(sparse)) if sparse else {}


def _file_of(path: str, names: Container[str]) -> str | None:
    """Which of ``names`` a finding at ``path`` is in: the file itself, or the
    archive whose member it is (``a.zip!dir/file``)."""
    if path in names:
        return path
    cut = path.find(SEP)
    while cut != -1:
        if path[:cut] in names:
            return path[:cut]
        cut = path.find(SEP, cut + 1)
    return None


def _with_copies(report: ScanReport, copies: dict[str, tuple[int, list[str]]]) -> ScanReport:
    """``report`` with what the scan of each kept file gave repeated for its copies."""
    if not copies:
        return report
    from dataclasses import replace

    from secretkit.scan.one_file import partly_read

    skipped = {s.path: s for s in report.skipped}
    found: dict[str, list[Finding]] = {}
    for finding in report.findings:
        file = _file_of(finding.path, copies)
        if file is not None:
            found.setdefault(file, []).append(finding)
    for kept, (size, others) in copies.items():
        for other in others:
            if kept in skipped:
                report.skipped.append(replace(skipped[kept], path=other))
                if not partly_read(skipped[kept].reason):
                    continue
            # (a member of an archive is found at ``archive!member``: the suffix is kept)
            report.findings.extend(
                replace(f, path=other + f.path[len(kept) :]) for f in found.get(kept, ())
            )
            report.stats["files"] += 1
            report.stats["bytes"] += size
    report.findings.sort(key=lambda f: (f.path, f.commit or "", f.start))
    return report


def _scan_tree_cached(
    top: Path,
    names: list[str],
    allow: Allowlist,
    jobs: int | None,
    max_bytes: int,
    progress: Progress | None,
    staged: dict[str, bytes],
    lfs: Path | None = None,
) -> ScanReport:
    """:func:`scan_tree` with each file's git blob id looked up in the history cache
    (``staged``: the index's bytes of tracked files the work tree lacks)."""
    from secretkit.git.objects import blob_id
    from secretkit.scan.formats import file_format
    from secretkit.scan.history_cache import HistoryCache, cache_key
    from secretkit.scan.one_file import one_line, reading

    store = HistoryCache.load(top, cache_key(allow.identity(), max_bytes))
    job_list: list[Job] = []
    pending: list[tuple[str, str]] = []
    first: dict[tuple[str, str], str] = {}  # (blob id, file type) → the name scanned
    copies: dict[str, tuple[int, list[str]]] = {}
    lines: dict[str, bool] = {}  # blob id → one_line(its bytes)
    known_clean = 0
    for name in names:
        full = os.path.join(str(top), name)
        if name in staged:
            job_list.append((name, None, staged[name], None))
            continue
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
        oid = blob_id(data)
        if store.known(oid, name) == "clean":
            known_clean += 1
            continue
        pending.append((oid, name))
        kept = first.setdefault((oid, file_format(name)), name)
        if kept != name and oid not in lines:
            lines[oid] = one_line(data)  # (asked once per repeated content)
        if kept != name and reading(kept, lines[oid]) == reading(name, lines[oid]):
            copies.setdefault(kept, (len(data), []))[1].append(name)
            continue
        job_list.append((name, None, data, None))
    report = run_jobs(job_list, allow, jobs_n=jobs, max_bytes=max_bytes, progress=progress, lfs=lfs)
    _with_copies(report, copies)
    names_scanned = {name for _oid, name in pending}
    unclean = {_file_of(f.path, names_scanned) or f.path for f in report.findings}
    unclean |= {s.path for s in report.skipped}
    for oid, name in pending:
        if name not in unclean:
            store.record_clean(oid, name)
    _note_nix_facts(top, store, [(oid, n) for oid, n in pending if n.endswith(".nix")], staged)
    store.save()
    report.stats["files"] += known_clean
    return report
