"""Where a regex match can start, found with ``str.find`` and literal-led regexes, so
that a pattern without a literal prefix is tried at a few positions instead of at
every one.

:func:`matches_at` gives what ``pattern.finditer(text)`` gives when it is handed every
position a match can start at: ``pattern.match(text, pos)`` still sees the text
before ``pos`` (lookbehinds, ``\\b``), and a match's end is where the next one may
start.  Each ``*_starts`` function below returns such positions for one pattern of
:mod:`secretkit.scan.detectors`; it may return more (they are only tried), never fewer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator


def matches_at(
    pattern: re.Pattern[str], text: str, starts: Iterable[int]
) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)`` for a pattern that never matches the empty string and
    can start only at ``starts`` (ascending, duplicates allowed)."""
    pos = 0
    for start in starts:
        if start < pos:
            continue
        m = pattern.match(text, start)
        if m is not None:
            yield m
            pos = max(m.end(), start + 1)


# On large texts re's scan for a literal is about twice as fast as ``in`` and
# ``str.find`` for short needles (and no slower for single ones).
_LARGE = 1 << 14
_SHORT = 4
_LITERALS: dict[str, re.Pattern[str]] = {}


def _literal(needle: str) -> re.Pattern[str]:
    pattern = _LITERALS.get(needle)
    if pattern is None:
        pattern = _LITERALS.setdefault(needle, re.compile(re.escape(needle)))
    return pattern


def contains(text: str, needle: str) -> bool:
    """``needle in text``, faster on large texts."""
    if len(text) < _LARGE or len(needle) > _SHORT or len(needle) < 2:
        return needle in text
    return _literal(needle).search(text) is not None


def find(text: str, needle: str, start: int = 0) -> int:
    """``text.find(needle, start)``, faster on large texts."""
    if len(text) < _LARGE or len(needle) > _SHORT or len(needle) < 2:
        return text.find(needle, start)
    m = _literal(needle).search(text, start)
    return -1 if m is None else m.start()


def _overlaps_itself(word: str) -> bool:
    return any(word[:size] == word[-size:] for size in range(1, len(word)))


def word_starts(text: str, words: Iterable[str]) -> list[int]:
    """Every position where one of ``words`` occurs (overlaps included), ascending."""
    out: list[int] = []
    for word in words:
        if len(text) >= _LARGE and not _overlaps_itself(word):
            out.extend(m.start() for m in _literal(word).finditer(text))
            continue
        pos = text.find(word)
        while pos != -1:
            out.append(pos)
            pos = text.find(word, pos + 1)
    out.sort()
    return out


def folded(text: str) -> str | None:
    """``text.lower()`` when it has ``text``'s positions and holds the ASCII letter
    wherever ``re.IGNORECASE`` would match a character of ``text`` to one, else None.

    Besides the ASCII letters, re matches "\u0130" and "\u0131" to i, "\u017f" to s and
    the Kelvin sign to k; lower() makes the Kelvin sign k and "\u0130" two characters."""
    lowered = text.lower()
    if not text.isascii() and (len(lowered) != len(text) or "\u017f" in text or "\u0131" in text):
        return None
    return lowered


def run_start(text: str, end: int, chars: frozenset[str]) -> int:
    """Where the run of ``chars`` that ends at ``end`` begins."""
    start = end
    while start > 0 and text[start - 1] in chars:
        start -= 1
    return start


# ``NAME=`` of an environment assignment, read backwards from the "=": the name's
# first character ([A-Z_]) preceded by whitespace, ";" or the start of the text.
_ENV_NAME_REVERSED = re.compile(r"=[A-Z0-9_]*[A-Z_](?![^\s;])")


def env_assign_starts(text: str) -> list[int]:
    """Starts of ``(?<![^\\s;])[A-Z_][A-Z0-9_]*=``: found in the reversed text, where
    the pattern begins with the literal "=" (re scans for it quickly)."""
    size = len(text)
    out = [size - m.end() for m in _ENV_NAME_REVERSED.finditer(text[::-1])]
    out.reverse()
    return out


_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _word_char(c: str) -> bool:
    return c.isalnum() or c == "_"  # re's \\w on str patterns


def url_starts(text: str) -> Iterator[int]:
    """Starts of ``\\b[a-zA-Z][a-zA-Z0-9+.-]*://``: a letter at a word boundary in the
    scheme run before each "://"."""
    colon = text.find("://")
    while colon != -1:
        for pos in range(run_start(text, colon, _SCHEME_CHARS), colon):
            if text[pos] in _ASCII_LETTERS and (pos == 0 or not _word_char(text[pos - 1])):
                yield pos
        colon = text.find("://", colon + 1)


_KEY_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
_B64_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/")


def signing_key_starts(text: str) -> Iterator[int]:
    """Starts of ``(?<![A-Za-z0-9+/])[A-Za-z0-9._-]+:[A-Za-z0-9+/]{86}==``: in the name
    run before a ":" that stands 87 characters before "=="."""
    end = text.find("==")
    while end != -1:
        colon = end - 87
        if colon > 0 and text[colon] == ":":
            for pos in range(run_start(text, colon, _KEY_NAME_CHARS), colon):
                if pos == 0 or text[pos - 1] not in _B64_CHARS:
                    yield pos
        end = text.find("==", end + 1)
