"""Nix comments that can hold a secret: commented-out bindings and tokens.

A commented-out line (``# services.tailscale.authKey = "tskey-…";``) is still in the
file and in every copy of it.  The comments worth reading are found from what can make
them matter — a token format the whole-file pass of :mod:`secretkit.scan.nix` found,
a ``#`` line holding a secret-ish word and an "=", or a secret's name followed by a
long value in prose (``/* … */`` likewise) — and only those are asked of the tree, one
node lookup each: no walk over every comment.

:func:`comment_spans` gives the byte spans of those comments; :func:`bindings` reads
``attr.path = "value";`` lines in one of them.  Judging the values is the caller's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from secretkit.lazy_re import lazy

# A "#" and, later on the same line, an "=" before a string (or a lib.mk* call of one):
# led by a literal, which re scans for quickly.
_HASH_LINE = lazy(rb"#[^\n=]*+=[ \t]*+(?:[A-Za-z.]++[ \t]++)?[\"']")
# Every secret name (filters.secret_name) holds one of these (asked of the lowered bytes).
_WORDS = lazy(rb"pass|tok|secret|key|cred|psk|auth|pw")
# A "#" line where a value may be written after a secret's name in prose ("# old api
# key: <value>", :mod:`secretkit.scan.prose_secrets`), asked of the lowered bytes.
_PROSE_LINE = lazy(
    rb"#[^\n]*?(?:pass|token|secret|key|cred|psk|pw)[a-z]*[ \t]*(?::|=|is|was)[ \t]*"
    rb"[\"'`]?[a-z0-9+/_.~=-]{16}"
)

_NAME = rb"(?:[A-Za-z_][A-Za-z0-9_'-]*|\"(?:[^\"\\$\n]|\\.)*\")"
_BINDING = lazy(
    rb"[ \t]*(?P<path>" + _NAME + rb"(?:[ \t]*\.[ \t]*" + _NAME + rb")*)[ \t]*=[ \t]*"
    rb"(?:(?:lib\.)?mk[A-Za-z]+[ \t]+)?"
    rb"(?:\"(?P<dq>(?:[^\"\\\n]|\\.)*)\"|''(?P<ind>(?:[^'\n]|'(?!'))*)'')"
)
_PATH_NAME = lazy(_NAME)
_PROSE_VALUE = lazy(rb"(?::|is|was)[ \t]*[\"'`]?[a-z0-9+/_.~=-]{16}")
_MARKS = lazy(rb"[ \t]*(?:#+|/\*+|\*+(?!/))?")


@dataclass(frozen=True)
class CommentBinding:
    """``path = "value"`` written in a comment: the names, and the value's bytes."""

    names: tuple[str, ...]
    start: int  # the value's first byte in the file
    end: int
    value: str  # the string's value (escapes resolved)


def comment_spans(
    tree: Any, data: bytes, lowered: bytes, starts: list[int]
) -> list[tuple[int, int]]:
    """``(start, end)`` of the comments that hold one of ``starts`` (byte offsets of
    token-format matches) or a line with a secret-ish word and an "=", ascending."""
    root = tree.root
    found: dict[int, int] = {}

    def comment_at(pos: int) -> tuple[int, int] | None:
        """The span of the comment holding ``pos``, or None when it is in none."""
        node = root.descendant_for_byte_range(pos, pos + 1)
        if node is None or node.type != "comment":
            return None
        return int(node.start_byte), int(node.end_byte)

    for pos in starts:
        if (span := comment_at(pos)) is not None:
            found[span[0]] = span[1]
    m = _PROSE_LINE.search(lowered)
    while m is not None:
        span = comment_at(m.start())
        if span is not None:
            found[span[0]] = span[1]
        m = _PROSE_LINE.search(lowered, span[1] if span is not None else m.start() + 1)
    m = _HASH_LINE.search(data)
    while m is not None:
        hash_at = m.start()
        if _holds_word(lowered, hash_at, m.end()) and (span := comment_at(hash_at)) is not None:
            found[span[0]] = span[1]
            m = _HASH_LINE.search(data, span[1])
        else:
            m = _HASH_LINE.search(data, hash_at + 1)
    pos = data.find(b"/*")
    while pos != -1:
        span = comment_at(pos)  # (a glob in a string, "${dir}/*", is none)
        if span is None:
            pos = data.find(b"/*", pos + 2)
            continue
        start, end = span
        if _holds_word(lowered, start, end) and (
            data.find(b"=", start, end) != -1 or _PROSE_VALUE.search(lowered, start, end)
        ):
            found[start] = end
        pos = data.find(b"/*", end)
    return sorted(found.items())


def _holds_word(lowered: bytes, start: int, end: int) -> bool:
    return _WORDS.search(lowered, start, end) is not None


def bindings(data: bytes, start: int, end: int) -> Iterator[CommentBinding]:
    """The ``path = "value";`` lines (a literal value, optionally under ``lib.mk*``) of
    the comment ``data[start:end]``, one per line."""
    pos = start
    while pos < end:
        line_end = data.find(b"\n", pos, end)
        line_end = end if line_end == -1 else line_end
        marks = _MARKS.match(data, pos, line_end)
        m = _BINDING.match(data, marks.end() if marks else pos, line_end)
        if m is not None:
            binding = _binding(m)
            if binding is not None:
                yield binding
        pos = line_end + 1


def _binding(m: re.Match[bytes]) -> CommentBinding | None:
    group = "dq" if m.group("dq") is not None else "ind"
    raw = m.group(group).decode("utf-8", "replace")
    if "${" in raw:
        return None  # made by Nix at evaluation time: never a literal secret
    value = raw if group == "ind" or "\\" not in raw else _unescape(raw)
    names = tuple(_name(n) for n in _PATH_NAME.findall(m.group("path")))
    return CommentBinding(names, m.start(group), m.end(group), value)


def _name(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    return _unescape(text[1:-1]) if text.startswith('"') else text


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def _unescape(text: str) -> str:
    """The value of a ``"…"`` string's text: ``\\n``, ``\\t``, ``\\r``; any other
    escaped character stands for itself (as Nix reads it)."""
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text, flags=re.S)
