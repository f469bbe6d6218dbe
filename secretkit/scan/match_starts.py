"""Where a regex match can start, found with ``str.find`` and literal-led regexes, so
that a pattern without a literal prefix is tried at a few positions instead of at
every one.

:func:`matches_at` gives what ``pattern.finditer(text)`` gives when it is handed every
position a match can start at: ``pattern.match(text, pos)`` still sees the text
before ``pos`` (lookbehinds, ``\\b``), and a match's end is where the next one may
start.  Each ``*_starts`` function below returns such positions for one pattern of
:mod:`secretkit.scan.command_detectors`; it may return more (they are only tried), never fewer.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import AnyStr

from secretkit.lazy_re import lazy


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


# A pattern and where its matches can start (None: anywhere), by name: the tables
# (``STARTS``) of the command, request and client rules.
Starts = Mapping[str, tuple[re.Pattern[str], Callable[[str], Iterable[int] | None]]]


def finditer_named(table: Starts, name: str, text: str) -> Iterator[re.Match[str]]:
    """:func:`finditer_at` of the pattern ``table`` names, at the starts it gives."""
    pattern, where = table[name]
    return finditer_at(pattern, text, where(text))


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


# Below this many characters ``in`` answers sooner than a remembered answer is found
# (a value, a literal, a short file: their answers are not carried to another version).
_SMALL = 256


def contains(text: str, needle: str) -> bool:
    """``needle in text``, faster on large texts (and remembered for the text being
    scanned, see :func:`remembering`, unless it is small)."""
    if len(text) < _SMALL:
        return needle in text
    entry = _scanning.entry
    if entry.text is text:
        known = entry.present.get(needle)
        if known is None:
            known = entry.present[needle] = entry.holds(needle, lower=False)
        return known
    return _contains(text, needle)


def _contains(text: str, needle: str) -> bool:
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
    """What has been asked about the text being scanned (which words its lower-cased
    form holds, which substrings it holds); entered as a context (see
    :func:`remembering`)."""

    __slots__ = (
        *("asked", "lowered", "lowered_runs", "outer", "present", "runs", "tests"),
        *("text", "words"),
    )

    def __init__(self, text: str, known: Known | None = None) -> None:
        self.text = text
        self.lowered: str | None = None
        self.asked = 0  # substrings and words looked for in the text itself
        self.runs: str | None = None  # see holds
        self.lowered_runs: str | None = None
        self.words: dict[str, bool] = dict(known.words) if known is not None else {}
        self.present: dict[str, bool] = dict(known.present) if known is not None else {}
        self.tests: dict[str, bool] = dict(known.tests) if known is not None else {}
        self.outer = self

    def holds(self, needle: str, *, lower: bool) -> bool:
        """``needle in text`` (``lower``: in ``text.lower()``), looked for in the
        text's distinct runs of characters between white space, joined by line breaks
        (:data:`_RUNS_AFTER`): a needle without white space lies within one run (and
        lower-casing keeps white space and the rest apart), and on source text the
        distinct runs are about half the characters, and every further needle is
        looked for in those."""
        if self.asked < _RUNS_AFTER or not _spaceless(needle):
            self.asked += 1
            return _contains(lowered(self.text) if lower else self.text, needle)
        if self.runs is None:
            self.runs = "\n".join(set(self.text.split()))
        if not lower:
            return _contains(self.runs, needle)
        if self.lowered_runs is None:
            self.lowered_runs = self.runs.lower()
        return _contains(self.lowered_runs, needle)

    def __enter__(self) -> None:
        self.outer = _scanning.entry
        _scanning.entry = self

    def __exit__(self, *exc: object) -> None:
        _scanning.entry = self.outer
        self.outer = self


# Needles looked for in a text itself before its distinct runs are made (see
# _Remembered.holds): a text the scan of a version carried most answers to asks few.
_RUNS_AFTER = 3
_SPACELESS: dict[str, bool] = {}


def _spaceless(needle: str) -> bool:
    known = _SPACELESS.get(needle)
    if known is None:
        known = _SPACELESS[needle] = needle.split() == [needle]
    return known


class _Scanning(threading.local):
    entry = _Remembered("\0".join(("no", "text")))  # (a string no caller holds)


# The pair readers, the detectors and the vendor pre-filter ask in turn about the same
# text (see :func:`remembering`); the entry holds the text itself, so no other text can
# pass for it under the same identity.  One per thread.
_scanning = _Scanning()


def remembering(text: str, known: Known | None = None) -> AbstractContextManager[None]:
    """Within, :func:`lowered`, :func:`may_hold` and :func:`contains` remember their
    answers for ``text`` (dropped on leaving: a large text's lower-cased copy is not
    kept), starting from ``known``'s, and leave them in ``known`` when given."""
    return _Remembering(text, known)


class _Remembering(_Remembered):
    __slots__ = ("known",)

    def __init__(self, text: str, known: Known | None) -> None:
        super().__init__(text, known)
        self.known = known

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        if self.known is not None:
            self.known.words, self.known.present = self.words, self.present
            self.known.tests = self.tests


class Known:
    """What a scan of one text learnt (:func:`remembering`): which lower-case words
    its lower-cased form holds, which substrings it holds.  :meth:`after` carries it
    to another version of the text."""

    __slots__ = ("present", "tests", "words")

    def __init__(self) -> None:
        self.words: dict[str, bool] = {}
        self.present: dict[str, bool] = {}
        self.tests: dict[str, bool] = {}  # (by the key of a :func:`line_test`)

    def after(self, old: str, new: str) -> Known:
        """What is known of ``new`` from what was known of ``old``: a substring without
        a line break lies within one line, so ``new`` holds it when ``old`` did and no
        line holding it was removed, or when a line added holds it, and not when
        ``old`` did not and no line added does (the rest is asked again).  The words of
        the lower-cased text are carried between ASCII texts only (lower-casing other
        text need not keep lines apart); substrings and line tests between any."""
        out = Known()
        if len(new) < _SMALL:
            return out  # (a small text is asked at once: carrying costs more)
        removed, added = _changed_lines(old, new)
        if 3 * (len(removed) + len(added)) > len(new) + len(old):
            return out  # much changed: asking the new text costs as much as carrying
        if old.isascii() and new.isascii():
            out.words = _carried(self.words, removed.lower(), added.lower())
        out.present = _carried(self.present, removed, added)
        for key, held in self.tests.items():
            test = _LINE_TESTS[key]
            if test(added):
                out.tests[key] = True
            elif not held:
                out.tests[key] = False
            elif not test(removed):
                out.tests[key] = True
        return out


# Tests that hold for a text exactly when they hold for one of its lines (a match that
# never crosses a line break, judged by the characters beside it): carried from one
# version of a text to the next like substrings (see :meth:`Known.after`).
_LINE_TESTS: dict[str, Callable[[str], bool]] = {}


def line_test(key: str, test: Callable[[str], bool]) -> Callable[[str], bool]:
    """``test`` (true of a text exactly when true of one of its lines), its answer
    remembered for the text being scanned (:func:`remembering`) under ``key``."""
    if key in _LINE_TESTS:
        raise ValueError(f"two line tests named {key}")
    _LINE_TESTS[key] = test

    def remembered(text: str) -> bool:
        entry = _scanning.entry
        if entry.text is not text:
            return test(text)
        known = entry.tests.get(key)
        if known is None:
            known = entry.tests[key] = test(text)
        return known

    return remembered


def _carried(known: dict[str, bool], gone: str, came: str) -> dict[str, bool]:
    """``known`` (substring → held by the old text) for the new text, given the lines
    the old text lost (``gone``) and the new one gained (``came``)."""
    out = {}
    for needle, held in known.items():
        if "\n" in needle:
            continue  # (could lie across lines: asked again)
        if needle in came:
            out[needle] = True
        elif not held:
            out[needle] = False
        elif needle not in gone:
            out[needle] = True
    return out


def _changed_lines(old: str, new: str) -> tuple[str, str]:
    """The lines ``old`` lost and the lines ``new`` gained, each joined by line breaks:
    the lines between their common first and last whole lines, and when those are much
    of the texts, only the distinct lines one holds and the other does not (a
    flake.lock's update changes lines all over the file, and the lines between its
    first and last change are mostly the same).  What :meth:`Known.after` carries is
    whether some line holds a thing: the distinct lines of ``new`` are those of
    ``old`` but the lost ones, and the gained ones, however often each occurs."""
    size = min(len(old), len(new))
    same = same_start(old, new, size)
    start = old.rfind("\n", 0, same) + 1
    limit = size - start
    shared = same_end(old, new, limit)
    # whole lines: the common end starts at a line break (or is empty)
    cut = old.find("\n", len(old) - shared)
    shared = 0 if cut == -1 else len(old) - cut
    gone, came = old[start : len(old) - shared], new[start : len(new) - shared]
    if 3 * (len(gone) + len(came)) <= len(old) + len(new):
        return gone, came  # (a change in one place: counting lines costs more than it saves)
    lost = set(gone.split("\n"))
    gained = set(came.split("\n"))
    return "\n".join(lost - gained), "\n".join(gained - lost)


def same_start(a: AnyStr, b: AnyStr, limit: int) -> int:
    """How many first characters (bytes) ``a`` and ``b`` share, at most ``limit``."""
    return _shared(lambda i, j: a[i:j] == b[i:j], limit)


def same_end(a: AnyStr, b: AnyStr, limit: int) -> int:
    """How many last characters (bytes) ``a`` and ``b`` share, at most ``limit`` (no
    reversed copies of the whole texts)."""
    end_a, end_b = len(a), len(b)
    return _shared(
        lambda i, j: a[max(0, end_a - j) : end_a - i] == b[max(0, end_b - j) : end_b - i], limit
    )


def _shared(equal: Callable[[int, int], bool], limit: int) -> int:
    """How many items two texts share from one end, at most ``limit``, where
    ``equal(i, j)`` says whether their items ``i`` to ``j`` from that end are equal:
    compared in blocks, then halved within the first block that differs (slices
    compare in C: a few passes instead of a loop per character)."""
    step = 4096
    at = 0
    while at < limit and equal(at, at + step):
        at += step
    if at >= limit:
        return max(0, limit)
    lo, hi = at, min(at + step, limit)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if equal(at, mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


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
    True for any other large text (there asking costs more than it saves); asked at
    once of a small one."""
    entry = _scanning.entry
    if entry.text is not text:
        return len(text) >= _SMALL or word in text.lower()
    known = entry.words.get(word)
    if known is None:
        known = entry.words[word] = entry.holds(word, lower=True)
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
# first character ([A-Z_]) preceded by whitespace, ";", a quote, "=" or the start of
# the text.
_ENV_NAME_REVERSED = lazy(r"=[A-Z0-9_]*[A-Z_](?![^\s;\"'=])")


def env_assign_starts(text: str) -> list[int]:
    """Starts of ``(?<![^\\s;"'=])[A-Z_][A-Z0-9_]*=``: found in the reversed text, where
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
