"""Secret values out of what a plan shows: its diff and messages never hold one."""

from __future__ import annotations

from collections.abc import Iterable


def redact_spans(data: bytes, spans: Iterable[tuple[int, int]]) -> bytes:
    """``data`` with every found secret span (whatever its length) replaced."""
    out = data
    last = len(data) + 1
    for start, end in sorted(set(spans), reverse=True):
        if end <= last:
            out = out[:start] + b"<redacted>" + out[end:]
            last = start
    return out


# A value shorter than this is replaced where it stands alone (not inside a word: a root
# password "nixos" would otherwise garble every `nixosModules` and `nixos-24.11` shown).
WHOLE_WORD_BELOW = 8


def redact_all(data: bytes, values: Iterable[str]) -> str:
    """Every occurrence of every value replaced, whatever its length (a short one
    where it is not part of a longer word)."""
    import re

    text = data.decode("utf-8", "replace")
    for value in values:
        if len(value) >= WHOLE_WORD_BELOW:
            text = text.replace(value, "<redacted>")
        elif value:
            text = re.sub(rf"(?<![\w.-]){re.escape(value)}(?![\w-])", "<redacted>", text)
    return text


def redact(text: str, values: Iterable[str]) -> str:
    """Every value of four characters or more replaced (shorter ones are common
    words and code: replacing them would garble the text and point at them); one
    under :data:`WHOLE_WORD_BELOW` where it is not part of a longer word."""
    return redact_all(text.encode("utf-8", "surrogateescape"), [v for v in values if len(v) >= 4])
