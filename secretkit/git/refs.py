"""Refs that hold commits: which ones, and the exact command that removes each.

``check`` fails while a local ref other than the branches and tags (a ``purge``
backup, the stash, notes, ``refs/original/*`` …) still holds a secret, and names
the command that drops it.
"""

from __future__ import annotations

from pathlib import Path

from secretkit.git import run_git
from secretkit.git.filter_repo import BACKUP_NAMESPACE

UNREACHABLE = "(unreachable)"


def refs_containing(root: Path, commit: str) -> list[str]:
    """Every ref whose history contains ``commit``."""
    proc = run_git(root, "for-each-ref", "--contains", commit, "--format=%(refname)", check=False)
    return proc.stdout.decode("utf-8", "surrogateescape").split()


def ref_group(ref: str) -> str:
    """A purge backup is one group (``refs/secretkit/backup/<time>/``); any other ref
    is its own."""
    if ref.startswith(BACKUP_NAMESPACE):
        stamp = ref[len(BACKUP_NAMESPACE) :].split("/", 1)[0]
        return f"{BACKUP_NAMESPACE}{stamp}/"
    return ref


def removal_command(group: str) -> str:
    """The exact command that deletes a ref (or a purge backup, all its refs)."""
    if group.endswith("/"):
        return f"git for-each-ref --format='delete %(refname)' {group} | git update-ref --stdin"
    if group == "refs/stash":
        return "git stash clear"
    if group == UNREACHABLE:
        return "git reflog expire --expire-unreachable=now --all && git gc --prune=now"
    return f"git update-ref -d {group}"
