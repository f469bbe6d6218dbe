"""Every version the history holds of a few paths: one path-limited ``git log`` over
every ref (merges against each parent), read for the blobs added at those paths."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from secretkit.git import run_git

SYMLINK_MODE = b"120000"


def path_versions(
    root: Path, paths: Sequence[str], *, every_ref: bool = False
) -> Iterator[tuple[str, str, str, bool]]:
    """``(path, blob id, oldest commit adding it there, whether it is a symbolic
    link)`` of every version of ``paths`` the history holds; purge's backups
    (``refs/secretkit/*``) only with ``every_ref``."""
    exclude = [] if every_ref else ["--exclude=refs/secretkit/*"]
    # (-m: a merge's versions too; literal pathspecs: a name may hold glob characters)
    proc = run_git(
        root, "--literal-pathspecs", "log", *exclude, "--all", "-m", "--raw", "--no-abbrev",
        "--no-renames", "-z", "--format=%x01%H", "--", *paths, check=False,
    )  # fmt: skip
    wanted = set(paths)
    added: dict[tuple[str, str], tuple[str, bool]] = {}
    for record in proc.stdout.split(b"\x01")[1:]:
        head, _, raw = record.partition(b"\n")
        commit = head.strip(b"\0\n").decode()
        fields = raw.lstrip(b"\n\0").split(b"\0")
        for meta, name in zip(fields[::2], fields[1::2], strict=False):
            parts = meta.split(b" ")
            if len(parts) >= 5 and parts[4][:1] in (b"A", b"M", b"T"):
                path = name.decode("utf-8", "surrogateescape")
                if path in wanted:  # (newest first: the oldest stays)
                    added[(path, parts[3].decode())] = (commit, parts[1] == SYMLINK_MODE)
    for (path, oid), (commit, link) in added.items():
        yield path, oid, commit, link
