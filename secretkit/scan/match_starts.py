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
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager


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


def finditer_at(
    pattern: re.Pattern[str], text: str, starts: Iterable[int] | None
) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, tried only at ``starts`` when they are known (None:
    anywhere)."""
    return pattern.finditer(text) if starts is None else matches_at(pattern, text, starts)


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
    low = lowered(text)
    if not text.isascii() and (len(low) != len(text) or "\u017f" in text or "\u0131" in text):
        return None
    return low


class _Remembered:
    """What has been asked about the text being scanned, in lower case; entered as a
    context (see :func:`remembering`)."""

    __slots__ = ("lowered", "outer", "text", "words")

    def __init__(self, text: str) -> None:
        self.text = text
        self.lowered: str | None = None
        self.words: dict[str, bool] = {}
        self.outer = self

    def __enter__(self) -> None:
        self.outer = _scanning.entry
        _scanning.entry = self

    def __exit__(self, *exc: object) -> None:
        _scanning.entry = self.outer
        self.outer = self


class _Scanning(threading.local):
    entry = _Remembered("\0".join(("no", "text")))  # (a string no caller holds)


# The pair readers, the detectors and the vendor pre-filter ask in turn about the same
# text (see :func:`remembering`); the entry holds the text itself, so no other text can
# pass for it under the same identity.  One per thread.
_scanning = _Scanning()


def remembering(text: str) -> AbstractContextManager[None]:
    """Within, :func:`lowered` and :func:`may_hold` remember their answers for ``text``
    (dropped on leaving: a large text's lower-cased copy is not kept)."""
    return _Remembered(text)


def lowered(text: str) -> str:
    """``text.lower()`` (remembered for the text being scanned)."""
    entry = _scanning.entry
    if entry.text is not text:
        return text.lower()
    if entry.lowered is None:
        entry.lowered = text.lower()
    return entry.lowered


def may_hold(text: str, word: str) -> bool:
    """False when no spelling of ``word`` (lower-case ASCII) in any case is in ``text``:
    ``word in text.lower()``, asked once per word of the text being scanned; always
    True for any other text (there asking costs more than it saves)."""
    entry = _scanning.entry
    if entry.text is not text:
        return True
    known = entry.words.get(word)
    if known is None:
        known = entry.words[word] = contains(lowered(text), word)
    return known


def may_match(text: str, word: str) -> bool:
    """False when ``re.compile(word, re.IGNORECASE)`` cannot match in ``text`` (``word``:
    lower-case ASCII letters), told from the remembered lower-cased text; True when
    unsure (another text, or one with characters :func:`folded` gives up on)."""
    return may_hold(text, word) or folded(text) is None


def lines_with(text: str, words: Iterable[str]) -> list[tuple[int, int]] | None:
    """``(start, end)`` of every line of ``text`` (cut at "\\n", which ``end`` excludes)
    where ``re.compile("|".join(words), re.IGNORECASE)`` can match, ascending; None
    when :func:`folded` gives up on the text.  ``words``: lower-case ASCII letters."""
    low = folded(text)
    if low is None:
        return None
    lines: dict[int, int] = {}
    for word in words:
        if not may_hold(text, word):
            continue
        pos = find(low, word)
        while pos != -1:
            start = low.rfind("\n", 0, pos) + 1
            end = low.find("\n", pos)
            if end == -1:
                end = len(low)
            lines[start] = end
            pos = find(low, word, end)
    return sorted(lines.items())


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
