"""The history ``purge`` rewrote, as its backups (``refs/secretkit/backup/*``) keep it:
the blobs only those refs reach.  ``exposed`` scans them so that the values a purge
removed from history stay on the rotation checklist until the backup is dropped."""

from __future__ import annotations

from pathlib import Path

from secretkit.git import run_git
from secretkit.git.objects import HistoryBlob, object_sizes

BACKUP_GLOB = "refs/secretkit/backup/*"


def backup_blobs(root: Path) -> list[HistoryBlob]:
    """Every blob reachable from a purge backup and from no other ref (``commit`` is
    the backup ref that holds it: the rewritten commits have no other name)."""
    refs = run_git(
        root, "for-each-ref", "--format=%(refname)", BACKUP_GLOB.rstrip("*"), check=False
    )
    names = refs.stdout.decode("utf-8", "surrogateescape").split()
    found: dict[str, HistoryBlob] = {}
    for ref in names:
        # (a failure is raised, never read as a shorter list: a blob left out would
        # be a value left off the checklist)
        proc = run_git(
            root, "rev-list", "--objects", ref, "--not", "--exclude=refs/secretkit/*", "--all",
        )  # fmt: skip
        pairs: dict[str, str] = {}
        for line in proc.stdout.decode("utf-8", "surrogateescape").splitlines():
            oid, _, path = line.partition(" ")
            if path and oid not in found:
                pairs[oid] = path
        for oid in object_sizes(root, pairs):  # blobs only (trees are left out)
            found[oid] = HistoryBlob(oid, ref, pairs[oid])
    return list(found.values())
