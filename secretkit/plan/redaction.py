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


def redact_all(data: bytes, values: Iterable[str]) -> str:
    """Every occurrence of every value replaced, whatever its length."""
    text = data.decode("utf-8", "replace")
    for value in values:
        if value:
            text = text.replace(value, "<redacted>")
    return text


def redact(text: str, values: Iterable[str]) -> str:
    """Every value of four characters or more replaced (shorter ones are common
    words and code: replacing them would garble the text and point at them)."""
    for value in values:
        if len(value) >= 4:
            text = text.replace(value, "<redacted>")
    return text
