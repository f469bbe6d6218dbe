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
WORKTREE = "worktree "  # the group of a linked worktree's detached HEAD: "worktree <path>"


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
    if group.startswith(WORKTREE):  # (git refuses while it has uncommitted changes)
        import shlex

        return f"git worktree remove {shlex.quote(group[len(WORKTREE) :])}"
    return f"git update-ref -d {group}"


def worktree_holding(root: Path, commit: str) -> str | None:
    """The group (``worktree <path>``, the path as seen from ``root``) of a linked
    worktree whose detached HEAD has ``commit`` in its history, else None.  No ref
    names such a HEAD, so without this a commit it holds looked unreachable, and
    expiring reflogs (the fix for that) left it where it was."""
    import os

    proc = run_git(root, "worktree", "list", "--porcelain", check=False)
    blocks = proc.stdout.decode("utf-8", "surrogateescape").split("\n\n")
    here = os.path.realpath(root)
    for block in blocks[1:]:  # the first is the main worktree
        fields = dict(line.partition(" ")[::2] for line in block.splitlines())
        path, head = fields.get("worktree"), fields.get("HEAD")
        if not path or not head or "detached" not in fields or os.path.realpath(path) == here:
            continue
        held = head == commit or (
            run_git(root, "merge-base", "--is-ancestor", commit, head, check=False).returncode == 0
        )
        if held:
            return WORKTREE + os.path.relpath(path, root)
    return None


def remote_branch(root: Path, ref: str) -> tuple[str, str] | None:
    """``(remote, branch)`` of a remote-tracking ref (``refs/remotes/origin/feature``),
    the remote matched against the configured ones (a name may hold a ``/``)."""
    names = run_git(root, "remote", check=False).stdout.decode("utf-8", "surrogateescape")
    for name in sorted(names.split(), key=len, reverse=True):
        prefix = f"refs/remotes/{name}/"
        if ref.startswith(prefix):
            return name, ref[len(prefix) :]
    return None
