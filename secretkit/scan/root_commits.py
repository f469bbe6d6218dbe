"""The root commits the fingerprint key comes from, remembered in the git directory.

``git rev-list --max-parents=0 HEAD`` walks the whole history (a quarter of a second
on a repository of 16k commits), and the hook, ``scan`` and ``check`` ask it whenever
a finding's fingerprint is shown.  When that walk is slow its answer is kept in
``<git dir>/secretkit/root-commits`` (commit ids only) with the commit it was
computed at; a later run checks that this commit is still an ancestor of ``HEAD``
and walks only the commits added since for new roots (a merged unrelated history).
History rewritten (the commit is no longer an ancestor), a shallow clone, grafts or
replace refs: the full walk, as without the file.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from secretkit.git import run_git

_NAME = "root-commits"
SLOW_SECONDS = 0.05  # below this the walk is asked every time (no file is written)


def root_commits(root: Path) -> list[str]:
    """The parentless commits reachable from ``HEAD`` (empty before the first
    commit), as :func:`secretkit.git.objects.root_commits` gives them."""
    from secretkit.git import git_dir
    from secretkit.git.objects import root_commits as walk

    base = git_dir(root)
    file = base / "secretkit" / _NAME if base is not None and _plain(base) else None
    if file is not None:
        cached = _load(file)
        if cached is not None:
            since, roots = cached
            known = run_git(root, "merge-base", "--is-ancestor", since, "HEAD", check=False)
            if known.returncode == 0:
                new = run_git(
                    root, "rev-list", "--max-parents=0", "HEAD", f"^{since}", "--", check=False
                )
                if new.returncode == 0:
                    return sorted({*roots, *new.stdout.decode().split()})
    started = time.perf_counter()
    roots = walk(root)
    if file is not None and roots and time.perf_counter() - started >= SLOW_SECONDS:
        head = run_git(root, "rev-parse", "--verify", "-q", "HEAD^{commit}", check=False)
        if head.returncode == 0:
            _save(file, head.stdout.decode().strip(), roots)
    return roots


def _plain(base: Path) -> bool:
    """No shallow boundary, grafts or replace refs: what ``HEAD``'s ancestry is does
    not change unless a ref moves."""
    if (base / "shallow").exists() or (base / "info" / "grafts").exists():
        return False
    if (base / "refs" / "replace").is_dir():
        return False
    try:
        packed = (base / "packed-refs").read_bytes()
    except OSError:
        packed = b""
    return b" refs/replace/" not in packed


def _load(file: Path) -> tuple[str, list[str]] | None:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        since, roots = data["commit"], data["roots"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(since, str) or not _is_id(since):
        return None
    if not isinstance(roots, list) or not roots or not all(_is_id(r) for r in roots):
        return None
    return since, roots


def _is_id(value: object) -> bool:
    return (
        isinstance(value, str)
        and len(value) in (40, 64)
        and all(c in "0123456789abcdef" for c in value)
    )


def _save(file: Path, since: str, roots: list[str]) -> None:
    """Written atomically; a failure to write only costs the walk next time."""
    from secretkit.atomic import write_atomic

    try:
        file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        text = json.dumps({"commit": since, "roots": roots}) + "\n"
        write_atomic(file, text.encode("utf-8"), mode=0o600)
    except OSError:
        return
