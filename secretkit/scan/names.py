"""Tokens in the names of a tree's files and directories.

A push publishes every path with the content: ``ghp_….txt``, a directory named after
an auth key.  Only formats a token carries on its own (a prefix and a length: GitHub's,
Tailscale's, …) are looked for in a name: a name is no place for a password's name
and value.  The finding's path is the file's with each token shown as its preview
(``(file name) notes/ghp_….txt``): the token itself is never printed.  A history
scan reads every path its commits ever added (the finding names the oldest commit
that added it); ``secretkit purge`` renames them.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import replace

from secretkit.scan.allowlist import Allowlist
from secretkit.scan.hits import Hit
from secretkit.scan.model import Finding

NAME_PREFIX = "(file name) "
REF_PREFIX = "(ref name) "  # a branch's or a tag's name, as ``refs/heads/…``
IDENTITY_PREFIX = "(author) "  # an author's, committer's or tagger's ``Name <email>``


def name_findings(
    names: Iterable[str], allow: Allowlist, prefix: str = NAME_PREFIX
) -> list[Finding]:
    """A finding for each token in ``names`` (repository-relative paths, or ref names
    with :data:`REF_PREFIX`)."""
    return [finding for _name, finding in named(names, allow, prefix)]


def named(
    names: Iterable[str], allow: Allowlist, prefix: str = NAME_PREFIX
) -> list[tuple[str, Finding]]:
    """:func:`name_findings`, each with the name it is in (of a directory's name: the
    first of ``names`` under it)."""
    from secretkit.scan import filters
    from secretkit.scan.detectors import Context
    from secretkit.scan.glued_tokens import glued_hits
    from secretkit.scan.hits import CONTEXT_RULES, FREEFORM_RULES, KEYED_RULES, token_hits
    from secretkit.scan.one_file import hit_findings
    from secretkit.scan.text_files import char_to_byte
    from secretkit.sensitive import never_shown, preview

    out: list[tuple[str, Finding]] = []
    plain = FREEFORM_RULES | KEYED_RULES | CONTEXT_RULES
    seen: set[str] = set()  # (a directory's name is reported once, not per file in it)
    listed = [n for n in names if len(n) >= 16]
    # all the names read as one text (one pass of the detectors), each hit then given
    # to the name it is in (a line break inside a name read as a space: as apart)
    text = "\n".join(n.replace("\n", " ") for n in listed)
    starts = [0]
    for name in listed[:-1]:
        starts.append(starts[-1] + len(name) + 1)
    by_name: dict[int, list[Hit]] = {}
    hits = list(token_hits(text, Context(())))
    # (a name glues a token to what is beside it: 2024ghp_…, ts_tskey-auth-…)
    hits += glued_hits(text, hits)
    for h in hits:
        at = bisect.bisect_right(starts, h.start) - 1
        base = starts[at]
        if h.rule in plain or h.end > base + len(listed[at]):
            continue
        if not filters.not_secret(text[h.start : h.end], token=True):
            never_shown(text[h.start : h.end])  # (every message that prints the path)
            by_name.setdefault(at, []).append(replace(h, start=h.start - base, end=h.end - base))
    for at, hits in sorted(by_name.items()):
        name = listed[at]
        last = max(h.end for h in hits)
        cut = name.find("/", last)  # (in a directory's name: that directory)
        named = name if cut < 0 else name[: cut + 1]
        if named in seen:
            continue
        seen.add(named)
        shown = named
        for h in sorted(hits, key=lambda h: -h.start):  # (from the end: offsets hold)
            shown = shown[: h.start] + preview(name[h.start : h.end]) + shown[h.end :]
        # (the name's bytes stand for the file's: one line, the hits as byte offsets)
        data = name.encode("utf-8", "surrogateescape")
        in_bytes = char_to_byte(name, data, hits)
        out += ((name, f) for f in hit_findings(prefix + shown, data, in_bytes, allow, None))
    return out


def glob_of(path: str) -> str:
    """An allowlist glob for ``path`` that does not hold the tokens in its name: each
    is its preview's characters and ``*`` (``notes/ghp_*.bin``), the rest as it is."""
    for _name, finding in named([path], Allowlist()):
        path = path.replace(finding.secret.reveal(), finding.preview.removesuffix("…") + "*")
    return path


def mark_unshown(paths: Iterable[str]) -> None:
    """Have output show each token in ``paths``' names as its preview (a message
    about them that runs before any scan: a dirty work tree)."""
    named(list(paths), Allowlist())
