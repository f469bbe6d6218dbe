"""Byte-span edits of Nix source, applied from the end backwards.

A rewrite is a list of :class:`Edit` (replace ``source[start:end]`` with
``text``).  :func:`apply_edits` applies them without touching anything outside
the spans; :func:`checked_apply` also re-parses the result with tree-sitter and
refuses it when it no longer parses.  Nothing here re-prints a file.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from secretkit.errors import SecretkitError


class EditError(SecretkitError):
    """An edit set that cannot be applied (overlap, out of range, breaks the parse).

    It means the migration plan is wrong for this file, not that the user did
    something wrong, so the file is left alone and the plan says why.
    """


@dataclass(frozen=True, order=True)
class Edit:
    """Replace ``source[start:end]`` by ``text`` (an insertion when ``start == end``)."""

    start: int
    end: int
    text: str

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise EditError(f"invalid edit span {self.start}..{self.end}")


def _ordered(source: bytes, edits: Iterable[Edit], where: str) -> list[Edit]:
    ordered = sorted(dict.fromkeys(edits), key=lambda e: (e.start, e.end))
    for edit in ordered:
        if edit.end > len(source):
            raise EditError(f"{where}: edit {edit.start}..{edit.end} is past the end of the file")
    for before, after in itertools.pairwise(ordered):
        # Two insertions at the same point are fine (kept in order); a replacement
        # may not reach into the next edit.
        if after.start < before.end or (
            after.start == before.start and before.end > before.start and after.end > after.start
        ):
            raise EditError(
                f"{where}: overlapping edits at bytes {before.start}..{before.end} "
                f"and {after.start}..{after.end}"
            )
    return ordered


def apply_edits(source: bytes, edits: Iterable[Edit], *, where: str = "<source>") -> bytes:
    """Apply ``edits`` to ``source`` from the end backwards; everything else is kept."""
    out = source
    for edit in reversed(_ordered(source, edits, where)):
        out = out[: edit.start] + edit.text.encode("utf-8") + out[edit.end :]
    return out


def parse_errors(source: bytes) -> list[tuple[int, int]]:
    """Byte spans of the parse errors tree-sitter finds in ``source`` (empty: clean)."""
    from secretkit.nix import cst

    tree = cst.parse(source)
    if not tree.has_errors:
        return []
    return [(int(a), int(b)) for a, b in tree.error_spans] or [(0, len(source))]


def checked_apply(source: bytes, edits: Iterable[Edit], *, where: str = "<source>") -> bytes:
    """:func:`apply_edits`, then re-parse; raise :class:`EditError` if the result
    has any parse error."""
    result = apply_edits(source, edits, where=where)
    errors = parse_errors(result)
    if errors:
        start = errors[0][0]
        line = result.count(b"\n", 0, start) + 1
        raise EditError(
            f"{where}: the rewritten file would not parse (line {line}); nothing was written",
            hint="this is a secretkit bug; please report it with the option path",
        )
    _given_once(source, result, where)
    return result


def _given_once(source: bytes, result: bytes, where: str) -> None:
    """Raise :class:`EditError` if ``result`` gives an attribute twice that ``source`` did
    not (Nix refuses to parse it; tree-sitter does not: :mod:`secretkit.nix.duplicates`)."""
    from secretkit.nix import cst
    from secretkit.nix.duplicates import defined_twice

    twice = defined_twice(cst.parse(result))
    if not twice:
        return
    before = {t.path for t in defined_twice(cst.parse(source))}
    for clash in twice:
        if clash.path not in before:
            line = result.count(b"\n", 0, clash.start) + 1
            raise EditError(
                f"{where}: the rewritten file would give {clash.path} twice (line {line}), "
                "which Nix refuses to parse; nothing was written",
                hint="this is a secretkit bug; please report it with the option path",
            )
