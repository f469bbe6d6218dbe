"""`secretkit scan`: the work tree, the index (--staged) or the history (--history).

Without PATH the whole repository containing the working directory is scanned
(``-C DIR`` works like ``git -C``: the repository that contains DIR).  With PATH
only those paths are read — a directory outside any repository is walked on its
own, never the current directory filtered afterwards — and a path the enclosing
repository ignores is scanned all the same, since the user named it.  The report
names the root it scanned.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from secretkit.commands import Line, Shown, out
from secretkit.errors import UsageError
from secretkit.scan.model import ScanReport


def _relative(top: Path, cwd: Path, names: Sequence[str]) -> list[str]:
    out = []
    for name in names:
        absolute = os.path.normpath(os.path.join(cwd, name))
        rel = os.path.relpath(absolute, top).replace(os.sep, "/")
        if rel.startswith(".."):
            raise UsageError(f"{name} is outside the scanned directory {top}")
        out.append("" if rel == "." else rel)
    return out


def _history_top(cwd: Path, paths: Sequence[str]) -> Path:
    """The repository ``paths`` name as a whole (``scan --history .`` at its top): each
    must be its top directory."""
    from secretkit.git import repo_root

    tops = set()
    for name in paths:
        target = Path(os.path.normpath(os.path.join(cwd, name)))
        top = repo_root(target) if target.is_dir() else None
        if top is None or top.resolve() != target.resolve():
            raise UsageError(
                f"{name}: --history scans a whole repository: name its top directory, or no PATH"
            )
        tops.add(top)
    if len(tops) > 1:
        raise UsageError("--history scans one repository at a time")
    return tops.pop()


def scan(
    cwd: Path,
    paths: Sequence[str] = (),
    *,
    staged: bool = False,
    history: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ScanReport:
    """Run one scan and return its report (the caller renders it)."""
    from secretkit.git import no_work_tree, repo_root, require_repo
    from secretkit.scan.history import scan_history
    from secretkit.scan.staged import scan_staged
    from secretkit.scan.worktree import scan_tree

    if staged and history:
        raise UsageError("--staged and --history cannot be combined")
    if history:
        top = _history_top(cwd, paths) if paths else require_repo(cwd)
        return _named(scan_history(top, progress=progress), top)
    if staged:
        top = require_repo(cwd)
        return _named(scan_staged(top, _relative(top, cwd, paths)), top)
    if not paths:
        from secretkit.git.repo import find_root

        top = find_root(cwd)  # (a bare repository's own files are not its tree: refused)
        return _named(scan_tree(top, progress=progress), top)
    # Each named path is scanned from the root that holds it: its repository, or
    # outside git the directory itself (a file: its directory).
    by_root: dict[Path, list[str]] = {}
    for name in paths:
        target = Path(os.path.normpath(os.path.join(cwd, name)))
        if not os.path.lexists(target):
            raise UsageError(f"{name}: no such file or directory")
        holder = target if target.is_dir() and not target.is_symlink() else target.parent
        found = repo_root(holder)
        if found is None:  # (git's own files, a bare repository's: not a tree to scan)
            no_tree = no_work_tree(holder)
            if no_tree is not None:
                raise no_tree
        root = found if found is not None else holder
        by_root.setdefault(root, []).extend(_relative(root, cwd, [name]))
    merged = ScanReport()
    for root, names in by_root.items():
        part = scan_tree(root, names, progress=progress, explicit=True)
        merged.findings.extend(part.findings)
        merged.skipped.extend(part.skipped)
        for key in ("files", "bytes", "seconds"):
            merged.stats[key] += part.stats[key]
    merged.root = ", ".join(str(root) for root in by_root)
    return merged


def _named(report: ScanReport, root: Path) -> ScanReport:
    report.root = str(root)
    return report


@dataclass(frozen=True)
class ScanOutput(Shown):
    """A scan rendered in ``fmt``: shown, or written to ``--output`` (``written``)."""

    report: ScanReport
    text: str
    written: Path | None = None

    @property
    def exit_code(self) -> int:
        return 1 if self.report.findings else 0

    def lines(self) -> list[Line]:
        return [] if self.written is not None else [out(self.text, end="")]


def scan_report(
    cwd: Path,
    paths: Sequence[str] = (),
    *,
    staged: bool = False,
    history: bool = False,
    fmt: str = "text",
    output: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ScanOutput:
    """``secretkit scan``: :func:`scan`, rendered as ``fmt`` (text, json, sarif) and
    written to ``output`` when given (relative to ``cwd``)."""
    from secretkit.scan.report import render
    from secretkit.sensitive import unshown

    report = scan(cwd, paths, staged=staged, history=history, progress=progress)
    text = unshown(render(report, fmt))  # (a token in a name: its preview, in the file too)
    if output is None:
        return ScanOutput(report, text)
    from secretkit.user_output import write_user_path

    return ScanOutput(report, text, write_user_path(cwd, output, text.encode()))
