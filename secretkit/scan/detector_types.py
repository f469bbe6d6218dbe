"""What a token-format detector is: the :class:`Context` of a piece of text, the
:class:`Match` spans it yields, the :class:`Detector` Protocol, and
:class:`RegexDetector`, the form most registry entries take
(:data:`secretkit.scan.detectors.DETECTORS`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from secretkit.scan.match_starts import matches_at
from secretkit.scan.vendor_filter import holds as _holds


@dataclass(frozen=True)
class Context:
    """Where a piece of text sits: the names leading to it (attribute path, key)."""

    names: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        for name in reversed(self.names):
            if not (name.startswith("[") and name.endswith("]")):
                return name
        return ""

    @property
    def lowered(self) -> str:
        return " ".join(self.names).lower()


@dataclass(frozen=True)
class Match:
    """A detector's span in the text it was given, with what it found there."""

    start: int  # index into the text
    end: int
    rule: str
    kind: str
    severity: str = "high"


class Detector(Protocol):
    @property
    def rule(self) -> str: ...

    @property
    def shortest(self) -> int:
        """No text shorter than this many characters holds a match: it is not searched
        (0: any may)."""
        ...

    def find(self, text: str, ctx: Context) -> Iterator[Match]: ...


def shortest_match(pattern: re.Pattern[str]) -> int:
    """The fewest characters a match of ``pattern`` spans (what re itself computes of
    a pattern; lookarounds span none), or 0 when re cannot say."""
    try:
        from re import _parser  # type: ignore[attr-defined]

        return max(0, int(_parser.parse(pattern.pattern, pattern.flags).getwidth()[0]))
    except Exception:
        return 0


# Words that large texts are asked about in lower case anyway (the pair readers ask
# for each, see secretkit.scan.match_starts.may_hold): an anchor holding one in lower
# case cannot be in a text that lacks it, in any case.
@dataclass(frozen=True)
class RegexDetector:
    """A token format: a regex (its first group that matched is the secret, else the
    whole match) and an optional validity check of the matched value."""

    rule: str
    kind: str
    pattern: re.Pattern[str]
    check: object = None  # Callable[[str], bool] | None (kept simple for the registry)
    needs: tuple[str, ...] = field(default=())  # substrings the context must mention
    anchors: tuple[str, ...] = field(default=())  # substrings the text must contain
    # Every position a match can start at, ascending (more is fine): the pattern is
    # then tried only there (see :func:`matches_at`).
    starts: Callable[[str], Iterable[int]] | None = None
    severity: str = "high"
    # The fewest characters a match spans (``shortest_match(pattern)``, written out so
    # that the pattern is not compiled before it is used; a test holds it to that).
    shortest: int = 0

    def find(self, text: str, ctx: Context) -> Iterator[Match]:
        if self.needs and not any(n in ctx.lowered for n in self.needs):
            return
        if self.anchors and not any(_holds(text, a) for a in self.anchors):
            return
        found = (
            self.pattern.finditer(text)
            if self.starts is None
            else matches_at(self.pattern, text, self.starts(text))
        )
        for m in found:
            # the first group that took part (alternatives each have theirs), else all
            group = next((i for i in range(1, (m.lastindex or 0) + 1) if m.group(i)), 0)
            value = m.group(group)
            if callable(self.check) and not self.check(value):
                continue
            yield Match(m.start(group), m.end(group), self.rule, self.kind, self.severity)
