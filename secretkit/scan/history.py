"""History beyond file contents: commit and tag messages, and tags that point straight
at a blob or a tree (no commit holds those, so the blob walk never sees them).

Findings here carry a path in parentheses that no file can have:
``(commit message)`` (with the commit), ``(message of refs/tags/v1)``,
``(refs/tags/key)`` for a tag of a blob and ``(refs/tags/t):dir/file`` for a file
of a tagged tree (their ``commit`` is None: no commit holds them).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from secretkit.scan.allowlist import Allowlist
from secretkit.scan.model import Finding

COMMIT_MESSAGE = "(commit message)"


def tag_message_path(ref: str) -> str:
    return f"(message of {ref})"


def tagged_path(ref: str, inner: str | None = None) -> str:
    return f"({ref})" + (f":{inner}" if inner else "")


def is_message(path: str) -> bool:
    return path == COMMIT_MESSAGE or path.startswith("(message of ")


def tag_of(path: str) -> str | None:
    """The tag ref a tag finding's path names (``refs/tags/x``), else None."""
    if path.startswith("(message of refs/tags/"):
        return path[len("(message of ") :].split(")", 1)[0]
    if path.startswith("(refs/tags/"):
        return path[1:].split(")", 1)[0]
    return None


def message_and_tag_findings(
    root: Path, allow: Allowlist, *, every_ref: bool = False
) -> list[Finding]:
    """Secrets in commit messages, annotated tag messages and tags of blobs/trees."""
    from secretkit.git.objects import (
        commit_messages,
        read_blobs,
        tag_message,
        tags,
        tree_entries,
    )
    from secretkit.scan.api import scan_bytes

    found: list[Finding] = []
    for message in commit_messages(root, every_ref=every_ref):
        if not message.text.strip():
            continue
        hits, _ = scan_bytes(COMMIT_MESSAGE, message.text, allow=allow, commit=message.oid)
        found.extend(hits)
    for tag in tags(root):
        if tag.tag is not None:
            text = tag_message(root, tag.tag)
            if text.strip():
                hits, _ = scan_bytes(tag_message_path(tag.ref), text, allow=allow)
                found.extend(hits)
        if tag.kind == "blob":
            for _oid, data in read_blobs(root, [tag.oid]):
                hits, _ = scan_bytes(tagged_path(tag.ref), data, allow=allow)
                found.extend(hits)
        elif tag.kind == "tree":
            entries = tree_entries(root, tag.oid)
            blobs = dict(read_blobs(root, (oid for _path, oid in entries)))
            for inner, oid in entries:
                if oid in blobs:
                    hits, _ = scan_bytes(inner, blobs[oid], allow=allow)
                    found.extend(replace(h, path=tagged_path(tag.ref, inner)) for h in hits)
    return found
