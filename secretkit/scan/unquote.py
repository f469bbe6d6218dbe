"""Where a value is inside what follows its key: quotes, a trailing comment, a YAML
tag or anchor, a quoted scalar over several lines, a key written as a list of bytes."""

from __future__ import annotations

import re

from secretkit.lazy_re import lazy
from secretkit.scan import filters


def unquote(raw: str, fmt: str) -> tuple[int, int] | None:
    """(start, end) of the value inside ``raw`` without quotes or a trailing comment."""
    if not raw:
        return None
    if raw[0] in "\"'":
        close = raw.find(raw[0], 1)
        if close == -1:  # (a quote never closed: the rest of the line, as a reader errs)
            end = len(raw.rstrip())
            return (1, end) if end > 1 else None
        return 1, close
    end = len(raw)
    for marker in (" #", "\t#") + ((" ;", "\t;") if fmt == "ini" else ()):
        pos = raw.find(marker)
        if pos != -1:
            end = min(end, pos)
    while end > 0 and raw[end - 1] in " \t":
        end -= 1
    if fmt == "yaml" and raw[0] == "!":
        return _untagged(raw)
    if fmt == "yaml" and raw[0] == "&":
        return _anchored(raw)
    if fmt in ("yaml", "toml") and raw[0] == "[" and _key_bytes(raw[:end]):
        return 0, end  # network_key: [12, 201, …]: a key written as bytes
    if fmt == "yaml" and raw[0] in "|>&*{[":
        return None  # block scalars, anchors and flow collections
    if fmt == "toml" and raw[0] in "[{":
        return None
    return 0, end


_BYTE_LIST = lazy(r"\[[ \t]*(?:\d{1,3}[ \t]*,[ \t]*){7,63}\d{1,3}[ \t]*,?[ \t]*\]")


def _key_bytes(text: str) -> bool:
    """A flow list of 8 to 64 numbers that can be a key's bytes (filters.key_bytes)."""
    if _BYTE_LIST.fullmatch(text) is None:
        return False
    return filters.key_bytes(tuple(int(n) for n in re.findall(r"\d+", text)))


# A YAML tag that leaves the scalar after it a plain string: a core tag (``!!str``,
# ``!!binary``) or Ansible's ``!unsafe``.  Any other local tag says what the
# application makes of its argument (Home Assistant's ``!secret name``, ``!env_var``,
# ``!include``, Ansible's ``!vault``, CloudFormation's ``!Ref``): never the value.
_PLAIN_TAG = lazy(r"(?:!![A-Za-z]+|!<tag:yaml\.org,2002:[a-z]+>|!unsafe)[ \t]+(?=\S)")


def _untagged(raw: str) -> tuple[int, int] | None:
    """The span of the scalar after a YAML tag that keeps it a plain string."""
    tag = _PLAIN_TAG.match(raw)
    if tag is None:
        return None
    if raw[tag.end()] in "|>&*!{[":
        return None
    span = unquote(raw[tag.end() :], "yaml")
    return None if span is None else (tag.end() + span[0], tag.end() + span[1])


_ANCHOR = lazy(r"&[^\s,\[\]{}]+[ \t]+(?=\S)")


def _anchored(raw: str) -> tuple[int, int] | None:
    """The span of the scalar after a YAML anchor (``password: &pw value``)."""
    anchor = _ANCHOR.match(raw)
    if anchor is None or raw[anchor.end()] == "&":
        return None
    span = unquote(raw[anchor.end() :], "yaml")
    return None if span is None else (anchor.end() + span[0], anchor.end() + span[1])


_QUOTED_LINES = 8  # (a value quoted over more lines than this is text, not a secret)


def multiline_quoted(text: str, at: int) -> tuple[int, int] | None:
    """(start, end), from ``at``, of a YAML quoted scalar opened at ``at`` and closed on
    a later line (its line breaks fold: the value is these characters as written);
    None when it closes on its own line or not within :data:`_QUOTED_LINES`."""
    quote = text[at : at + 1]
    if quote not in ('"', "'"):
        return None
    line_end = text.find("\n", at)
    if line_end == -1 or text.find(quote, at + 1, line_end) != -1:
        return None
    end = at
    for _ in range(_QUOTED_LINES):
        nxt = text.find("\n", line_end + 1)
        stop = len(text) if nxt == -1 else nxt
        close = text.find(quote, line_end + 1, stop)
        while quote == '"' and close != -1 and text[close - 1] == "\\":
            close = text.find(quote, close + 1, stop)
        if close != -1:
            end = close
            break
        if nxt == -1:
            return None
        line_end = nxt
    return (1, end - at) if end > at else None
