"""Git LFS: a file stored with ``filter=lfs`` is a small pointer in git, and its
content lives in the local LFS store (``<git common dir>/lfs/objects``, or under
``lfs.storage``), from where ``git push`` uploads it.  A scan that read only the
pointer would call a published secret clean, so the scanner reads the object here.

Nothing is executed: the store is found from git's config (read by git) and the
object is a plain file named by its SHA-256."""

from __future__ import annotations

import re
from pathlib import Path

from secretkit.lazy_re import lazy

# https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md: the first line is always
# the version, and a pointer is under 1024 bytes.
_VERSION = b"version https://git-lfs.github.com/spec/v1\n"
_POINTER_MAX = 1024
_OID = lazy(rb"^oid sha256:([0-9a-f]{64})$", re.M)
_SIZE = lazy(rb"^size ([0-9]+)$", re.M)

# How the scanner names a pointer whose object this clone does not hold (``check``
# fails it as "cannot verify", and a later run looks again).
MISSING_OBJECT = "LFS object not present locally"


def pointer(data: bytes) -> tuple[str, int] | None:
    """``(sha256 hex, size)`` of the object an LFS pointer names, or None for any
    other content (one ``startswith`` for all but pointers)."""
    if not data.startswith(_VERSION) or len(data) > _POINTER_MAX:
        return None
    oid = _OID.search(data)
    size = _SIZE.search(data)
    if oid is None or size is None:
        return None
    return oid.group(1).decode(), int(size.group(1))


def objects_dir(top: Path) -> Path | None:
    """Where this repository keeps its LFS objects: ``lfs.storage`` (relative to the
    git common directory) if set, else ``<git common dir>/lfs``; its ``objects``."""
    from secretkit.git import git_dir, run_git

    common = git_dir(top)
    if common is None:
        proc = run_git(top, "rev-parse", "--git-common-dir", check=False)
        if proc.returncode != 0:
            return None
        common = (top / proc.stdout.decode("utf-8", "surrogateescape").strip()).resolve()
    proc = run_git(top, "config", "--get", "lfs.storage", check=False)
    storage = proc.stdout.decode("utf-8", "surrogateescape").strip()
    base = common / storage if storage else common / "lfs"  # (an absolute one wins)
    return base / "objects"


def object_path(store: Path, oid: str) -> Path:
    return store / oid[0:2] / oid[2:4] / oid


def read_object(store: Path, oid: str, size: int, limit: int) -> bytes | None:
    """The object's content, or None when the store does not hold it whole and
    intact (its SHA-256 is checked: a truncated download is not the content).
    ``limit``: an object larger than this is not read (None as well)."""
    if size > limit:
        return None
    try:
        with open(object_path(store, oid), "rb") as handle:
            data = handle.read(limit + 1)
    except OSError:
        return None
    import hashlib  # (loads OpenSSL: spared when no LFS object is read)

    if len(data) != size or hashlib.sha256(data).hexdigest() != oid:
        return None
    return data
