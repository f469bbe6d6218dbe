"""`secretkit scan`: the work tree, the index (--staged) or the history (--history)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

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


def scan(
    cwd: Path,
    paths: Sequence[str] = (),
    *,
    staged: bool = False,
    history: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ScanReport:
    """Run one scan and return its report (the caller renders it)."""
    from secretkit.git import repo_root, require_repo
    from secretkit.scan import api

    if staged and history:
        raise UsageError("--staged and --history cannot be combined")
    if history:
        if paths:
            raise UsageError("--history scans every path; drop the PATH arguments")
        return api.scan_history(require_repo(cwd), progress=progress)
    if staged:
        top = require_repo(cwd)
        return api.scan_staged(top, _relative(top, cwd, paths))
    top = repo_root(cwd) or cwd  # without PATH: the whole repository
    if len(paths) == 1:
        # One directory elsewhere (another checkout, an unpacked archive): scan it
        # as its own tree, paths relative to its repository (or to itself).
        target = Path(os.path.normpath(os.path.join(cwd, paths[0])))
        if target.is_dir() and not _inside(target, top):
            own = repo_root(target) or target
            return api.scan_tree(own, _relative(own, target, ["."]), progress=progress)
    return api.scan_tree(top, _relative(top, cwd, paths), progress=progress)


def _inside(path: Path, top: Path) -> bool:
    try:
        path.resolve().relative_to(top.resolve())
    except ValueError:
        return False
    return True
