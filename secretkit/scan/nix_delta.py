"""A version of a Nix file scanned from the scan of another version of it.

In a history most blobs of a ``.nix`` path differ from the version before by a few
lines.  :func:`scan` takes the previous version's :class:`NixScan` and reads only
what changed: the changed lines (:func:`_edits`) are handed to tree-sitter as edits
of the old tree, which it re-parses reusing what did not change; the literals and
comments outside the changed regions keep the hits they had, shifted.  The hits are
the same as a whole scan's (:func:`secretkit.scan.nix.scan_nix`) because a literal's
hits depend only on the literal, the syntax from it up to its binding, the names of
the bindings and the positions in the lists above that, and the file's facts
(:func:`secretkit.scan.nix.literal_hits`) — and the regions grow until none of that
can differ outside them:

* each region grows, in both versions' trees, until it is whole bindings of one
  binding set (:func:`_settle`): a node across its edge is taken in whole, and a
  region inside a binding (or an ``inherit``) grows to the innermost one holding it (so every
  literal whose binding holds a change is read again, with its name and the syntax
  up to it).  Whole bindings swapped for whole bindings leave the syntax around
  them as it was, which is then checked: the nodes holding each region are the
  same in both trees (types and spans).  In a file that calls builders, a region
  in ``writeTextFile { name = …; text = …; }`` grows to the call (the text is
  judged by the name).  What no literal outside reads settles a region too: a
  function's formals (a default is judged by its formal's name, inside them), its
  ``:``, and a comment (a region in one grows to the whole comment; its text is judged
  alone) between bindings, above them or at the top of the file;
* the whole-file facts are equal: the token matches and the comments read outside
  the regions, and which names, builders and vendor formats the file can hold, and
  which names it interpolates after a directive (``auth-user-pass ${authFile}``
  makes the text of ``authFile = pkgs.writeText …`` a secret wherever it is).

A ``*File`` option's ``/etc/x`` makes ``environment.etc.x.text`` a secret anywhere in
the file: the set of such files must be the same in both versions (asked of the
literals holding ``/etc/``).  Otherwise the file is scanned whole: syntax errors,
the ``secretkit: allow`` mark (allowed lines), a region in none of those (a change
to the file's outermost expression), or edits over half of the file.  (Regions that
grow to most of the file are still followed: tree-sitter re-parses less, and callgrind
counts fewer instructions on Mic92's history than for reading such a version whole.)
tests/scan/test_scan_nix_delta.py compares :func:`scan` with the whole scan on every
version of generated histories.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from typing import Any

from secretkit.scan.hits import ALLOW_MARK, Hit, merge
from secretkit.scan.match_starts import Known, same_end, same_start
from secretkit.scan.nix import (
    FileFacts,
    comment_hits,
    comment_spans,
    file_facts,
    files_read_from_etc,
    literal_hits,
    name_hits,
)

Spans = list[tuple[int, int, list[Hit]]]
_ATTRSETS = ("attrset_expression", "rec_attrset_expression")
# Whole children of these swapped for others leave what is around them as it was, and
# no literal outside reads them (a formal's default is read with the formal's own name).
_WHOLE = ("binding_set", "formals")
# … and these, when what changed is whole binding sets (or nothing but space) in them.
_HOLDS_WHOLE = ("attrset_expression", "rec_attrset_expression", "let_expression")
_WHOLE_PARTS = ("binding_set", "comment")
# What a region inside one grows to: a binding (its literals are judged by its name),
# an ``inherit`` (it holds names only), a function's formals (a default is judged by
# its formal's name).
_UNITS = ("binding", "inherit", "inherit_from", "formals")
# … and these, when what changed is only what no literal outside reads: a function's
# formals and its ``:`` (``{ pkgs, ... }:`` given ``lib,``), comments, space.
_ABOVE_BINDINGS = {
    "function_expression": ("formals", ":", "comment"),
    "source_code": ("comment",),
}


@dataclass
class NixScan:
    """What a scan of one version of a Nix file found, kept to scan the next one."""

    data: bytes
    raw: Any  # the tree_sitter.Tree of ``data`` (without errors)
    literals: Spans  # (start, end, hits) of each literal with hits, in source order
    comments: Spans  # the same for comments
    tokens: list[tuple[int, int, str, str, str]]  # the whole-file token matches (bytes)
    spans: list[tuple[int, int]]  # the comments read
    flags: tuple[object, ...]
    etc: set[str] = field(default_factory=set)  # nix.files_read_from_etc of all literals
    text: str = ""  # the data decoded, and what its pre-filters found (match_starts)
    known: Known = field(default_factory=Known)

    def __repr__(self) -> str:  # (the hits hold values)
        return f"NixScan(bytes={len(self.data)}, hits={len(self.literals) + len(self.comments)})"


def scan(data: bytes, previous: NixScan | None) -> tuple[list[Hit], bool, NixScan | None]:
    """The hits of one Nix file (as :func:`secretkit.scan.nix.scan_nix`), whether it
    had parse errors, and what the next version can be scanned from (None when it
    cannot: errors, the allow mark)."""
    followable = ALLOW_MARK.encode() not in data
    known = Known()
    if previous is not None and followable:
        known = previous.known.after(previous.text, data.decode("utf-8", "replace"))
        facts = file_facts(data, known)
        done = _rescan(previous, data, facts)
        if done is not None:
            return done
    else:
        facts = file_facts(data, known)
    return _whole(data, followable, facts)


def _whole(
    data: bytes, followable: bool, facts: FileFacts
) -> tuple[list[Hit], bool, NixScan | None]:
    from secretkit.nix import cst

    tree = cst.parse(data)
    nodes = list(cst.value_strings(tree))
    etc = files_read_from_etc(tree, data, nodes)
    literals = literal_hits(tree, facts, nodes, etc)
    spans = comment_spans(tree, facts)
    comments = comment_hits(tree, facts, spans)
    hits = merge(_all(literals) + _all(comments) + name_hits(tree, facts))
    kept = None
    raw = tree._tree
    # (a tree parsed from a patched source, see cst.parse, cannot be edited)
    if followable and not tree.has_errors and raw is not None and raw.root_node.text == data:
        kept = NixScan(data, raw, literals, comments, _tokens(facts), spans, _flags(facts))
        kept.text, kept.known, kept.etc = facts.text, facts.known or Known(), etc
    return hits, tree.has_errors, kept


def _rescan(
    previous: NixScan, data: bytes, facts: FileFacts
) -> tuple[list[Hit], bool, NixScan] | None:
    from secretkit.nix import cst
    from secretkit.nix.syntax import NixTree, _parser

    old = previous.data
    flags = _flags(facts)
    if flags != previous.flags:
        return None
    edits = _edits(old, data)
    if 2 * sum(b1 - b0 for _a0, _a1, b0, b1 in edits) > len(data):
        return None  # most of the file changed: read whole
    edited = previous.raw.copy()
    for a0, a1, b0, b1 in edits:  # each in the offsets of the text the ones before made
        start = _point(data, b0)
        removed = old[a0:a1]
        lines = removed.count(b"\n")
        if lines:
            old_end = (start[0] + lines, len(removed) - (removed.rfind(b"\n") + 1))
        else:
            old_end = (start[0], start[1] + len(removed))
        edited.edit(
            start_byte=b0,
            old_end_byte=b0 + len(removed),
            new_end_byte=b1,
            start_point=start,
            old_end_point=old_end,
            new_end_point=_point(data, b1),
        )
    raw = _parser().parse(data, edited)
    if raw.root_node.has_error:
        return None
    regions = [[b0, b1, a0, a1] for a0, a1, b0, b1 in edits]
    roots = (raw.root_node, previous.raw.root_node)
    settled = False
    while not settled:  # grow the regions in both trees until each is whole bindings
        settled = True
        for side in (0, 1):
            for region in regions:
                lo, hi = region[2 * side], region[2 * side + 1]
                wider = _settle(roots[side], lo, hi, facts.builders)
                if wider is None:
                    return None
                if wider:
                    before = regions
                    regions = _cover(regions, wider[0], wider[1], side)
                    if regions == before:
                        return None  # (cannot happen: a span to grow to is wider)
                    settled = False
                    break
    for region in regions:  # the constructs around each region are the same in both
        around = _holders(roots[0], region[0], region[1])
        if around != _mapped(_holders(roots[1], region[2], region[3]), regions):
            return None
    tokens = _tokens(facts)
    if _outside(previous.tokens, regions) != _inside_none(tokens, regions):
        return None
    tree = NixTree(raw.root_node, data, False, [], raw)
    spans = comment_spans(tree, facts)
    if _outside(previous.spans, regions) != _inside_none(spans, regions):
        return None
    etc = _files_read_from_etc(tree, data)
    if etc != previous.etc:
        return None  # another file read from /etc/: its text may be a secret anywhere
    nodes = [
        n
        for lo, hi, _a0, _a1 in regions
        for n in cst.value_strings(tree, (lo, hi))
        if lo <= n[3] and n[4] <= hi
    ]
    inside = [(a, b) for a, b in spans if any(lo <= a and b <= hi for lo, hi, _, _ in regions)]
    literals = _merge_spans(previous.literals, literal_hits(tree, facts, nodes, etc), regions)
    comments = _merge_spans(previous.comments, comment_hits(tree, facts, inside), regions)
    if literals is None or comments is None:
        return None
    # (the quoted names holding a token are few: read again in every version)
    hits = merge(_all(literals) + _all(comments) + name_hits(tree, facts))
    kept = NixScan(data, raw, literals, comments, tokens, spans, flags)
    kept.text, kept.known, kept.etc = facts.text, facts.known or Known(), etc
    return hits, False, kept


def _edits(old: bytes, new: bytes) -> list[tuple[int, int, int, int]]:
    """``(old start, old end, new start, new end)`` of each changed run of lines,
    ascending: the common start and end cut off, the rest (unless it is small)
    compared line by line."""
    start = same_start(old, new, min(len(old), len(new)))
    shared_end = same_end(old, new, min(len(old), len(new)) - start)
    start = old.rfind(b"\n", 0, start) + 1  # (whole lines)
    old_end, new_end = len(old) - shared_end, len(new) - shared_end
    if (old_end - start) + (new_end - start) <= len(new) // 4:
        return [_trimmed(old, new, start, old_end, start, new_end)]  # one small change
    a_lines = old[start:old_end].splitlines(keepends=True)
    b_lines = new[start:new_end].splitlines(keepends=True)
    if len(a_lines) * len(b_lines) > 1_000_000:
        return [(start, old_end, start, new_end)]  # (line matching is quadratic)
    a_at = _line_offsets(a_lines, start)
    b_at = _line_offsets(b_lines, start)
    matcher = difflib.SequenceMatcher(None, a_lines, b_lines, autojunk=False)
    edits: list[tuple[int, int, int, int]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        edit = _trimmed(old, new, a_at[i1], a_at[i2], b_at[j1], b_at[j2])
        if edits and edits[-1][1] >= edit[0] and edits[-1][3] >= edit[2]:
            edit = (edits[-1][0], edit[1], edits[-1][2], edit[3])
            edits.pop()
        edits.append(edit)
    return edits or [(start, old_end, start, new_end)]


def _trimmed(
    old: bytes, new: bytes, a0: int, a1: int, b0: int, b1: int
) -> tuple[int, int, int, int]:
    """One edit without the bytes both sides share at its ends, and a line inserted
    or removed whole taken from the line break before it to the end of its text (so
    the region ends where the binding on it does)."""
    removed, added = old[a0:a1], new[b0:b1]
    same = same_start(removed, added, min(len(removed), len(added)))
    a0, b0 = a0 + same, b0 + same
    same = same_end(old[a0:a1], new[b0:b1], min(a1 - a0, b1 - b0))
    a1, b1 = a1 - same, b1 - same
    if (a0 == a1) != (b0 == b1) and a0 and old[a0 - 1 : a0] == b"\n":
        text = new[b0:b1] if a0 == a1 else old[a0:a1]
        if text.endswith(b"\n"):  # "<line>\n" after a line break is "\n<line>" before it
            return a0 - 1, a1 - 1, b0 - 1, b1 - 1
    return a0, a1, b0, b1


def _line_offsets(lines: list[bytes], start: int) -> list[int]:
    """The offset of each line of ``lines`` (with its line break) and of their end."""
    at = [start]
    for line in lines:
        at.append(at[-1] + len(line))
    return at


def _cover(regions: list[list[int]], lo: int, hi: int, side: int) -> list[list[int]]:
    """``regions`` (``[new lo, new hi, old lo, old hi]``, ascending) with ``[lo, hi)``
    (new offsets for ``side`` 0, old for 1) covered: the regions it meets or touches
    become one; outside regions the two texts are equal, so offsets shift."""
    i0, i1, j0, j1 = (0, 1, 2, 3) if side == 0 else (2, 3, 0, 1)
    meet = [r for r in regions if r[i0] <= hi and lo <= r[i1]]
    rest = [r for r in regions if not (r[i0] <= hi and lo <= r[i1])]
    merged = [0, 0, 0, 0]
    if meet:
        first, last = meet[0], meet[-1]
        merged[i0], merged[i1] = min(lo, first[i0]), max(hi, last[i1])
        merged[j0] = first[j0] - (first[i0] - merged[i0])
        merged[j1] = last[j1] + (merged[i1] - last[i1])
    else:
        before = [r for r in regions if r[i1] <= lo]
        shift = before[-1][j1] - before[-1][i1] if before else 0
        merged = [0, 0, 0, 0]
        merged[i0], merged[i1], merged[j0], merged[j1] = lo, hi, lo + shift, hi + shift
    return sorted([*rest, merged])


def _files_read_from_etc(tree: Any, data: bytes) -> set[str]:
    """:func:`secretkit.scan.nix.files_read_from_etc` of all the literals, asked only
    of those holding a ``/etc/`` (the others cannot name one)."""
    from secretkit.nix import cst

    nodes: dict[int, Any] = {}
    at = data.find(b"/etc/")
    while at != -1:
        for node in cst.value_strings(tree, (at, at + len(b"/etc/"))):
            nodes.setdefault(node[3], node)
        at = data.find(b"/etc/", at + 1)
    return files_read_from_etc(tree, data, list(nodes.values()))


def _all(spans: Spans) -> list[Hit]:
    return [hit for _start, _end, hits in spans for hit in hits]


def _flags(facts: FileFacts) -> tuple[object, ...]:
    return facts.keyed_file, facts.builders, facts.vendor(), facts.uses(), facts.given()


def _tokens(facts: FileFacts) -> list[tuple[int, int, str, str, str]]:
    from secretkit.scan.text_files import char_to_byte

    hits = char_to_byte(facts.text, facts.data, facts.file_hits)
    return [(h.start, h.end, h.rule, h.kind, h.severity) for h in hits]


_ACROSS = -(1 << 62)  # an item across a region's edge: nothing to compare by


def _shift(start: int, end: int, regions: list[list[int]]) -> int | None:
    """How far an old version's item ``[start, end)`` moves in the new version:
    None when it lies in a region, ``_ACROSS`` when across an edge of one."""
    shift = 0
    for _new_lo, new_hi, old_lo, old_hi in regions:
        if end <= old_lo:
            break
        if start >= old_hi:
            shift = new_hi - old_hi
            continue
        return None if old_lo <= start and end <= old_hi else _ACROSS
    return shift


def _outside(items: list[Any], regions: list[list[int]]) -> list[Any] | None:
    """The old version's ``(start, end, …)`` items outside every region, at the new
    version's offsets; None when one lies across a region's edge."""
    out = []
    for item in items:
        shift = _shift(item[0], item[1], regions)
        if shift == _ACROSS:
            return None
        if shift is not None:
            out.append((item[0] + shift, item[1] + shift, *item[2:]) if shift else item)
    return out


def _inside_none(items: list[Any], regions: list[list[int]]) -> list[Any] | None:
    """The new version's items outside every region (None: one lies across an edge)."""
    return _outside(items, [[lo, hi, lo, hi] for lo, hi, _a, _b in regions])


def _merge_spans(old: Spans, new: Spans, regions: list[list[int]]) -> Spans | None:
    """``old``'s entries outside the regions (at the new offsets) with ``new``'s."""
    out = list(new)
    for start, end, hits in old:
        shift = _shift(start, end, regions)
        if shift == _ACROSS:
            return None
        if shift is None:
            continue
        if shift:
            hits = [replace(h, start=h.start + shift, end=h.end + shift) for h in hits]
        out.append((start + shift, end + shift, hits))
    return sorted(out, key=lambda entry: (entry[0], -entry[1]))


def _holders(root: Any, lo: int, hi: int) -> list[tuple[str, int, int]]:
    """``(type, start, end)`` of the nodes holding ``[lo, hi)`` and more than it (an
    empty range: strictly inside), from the root down, binding sets and formals left
    out."""
    chain = []
    node = _deepest(root, lo, hi)
    while node is not None:
        if node.type not in _WHOLE:  # (whole bindings added at its edge move its edge)
            chain.append((node.type, node.start_byte, node.end_byte))
        node = node.parent
    return chain[::-1]


def _deepest(root: Any, lo: int, hi: int) -> Any:
    """The deepest node holding ``[lo, hi)`` and more than it (an empty range:
    strictly inside); tree-sitter finds a node near it, this settles which."""
    node = root.descendant_for_byte_range(lo, max(lo, hi - 1)) or root
    while node.parent is not None and not _holds(node, lo, hi):
        node = node.parent
    while (inner := _holding_child(node, lo, hi)) is not None:
        node = inner
    return node


def _holds(node: Any, lo: int, hi: int) -> bool:
    start: int = node.start_byte
    end: int = node.end_byte
    return (start <= lo and hi <= end and end - start > hi - lo) if lo < hi else start < lo < end


def _holding_child(node: Any, lo: int, hi: int) -> Any:
    for child in node.children:
        if child.end_byte > lo and child.start_byte <= lo and _holds(child, lo, hi):
            return child
    return None


def _mapped(chain: list[tuple[str, int, int]], regions: list[list[int]]) -> list[Any]:
    """An old version's chain at the new version's offsets (None for an offset in a
    region: then the chains cannot be the same)."""
    out: list[Any] = []
    for kind, start, end in chain:
        moved = (_moved(start, regions, True), _moved(end, regions, False))
        out.append(None if None in moved else (kind, *moved))
    return out


def _moved(offset: int, regions: list[list[int]], start: bool) -> int | None:
    """Where an old version's offset is in the new version (the start or end of a
    node around a region: a region's own edge maps to the new one's)."""
    shift = 0
    for new_lo, new_hi, old_lo, old_hi in regions:
        if offset < old_lo or (offset == old_lo and start):
            return offset + shift
        if offset > old_hi or (offset == old_hi and not start):
            shift = new_hi - old_hi
            continue
        if offset == old_lo:
            return new_lo
        if offset == old_hi:
            return new_hi
        return None
    return offset + shift


def _settle(root: Any, lo: int, hi: int, builders: bool) -> tuple[int, int] | tuple[()] | None:
    """``()`` when ``[lo, hi)`` is whole bindings of one binding set in the tree under
    ``root``; else the span to grow it to (a node across its edge, or the innermost
    binding holding it); None for the whole file."""
    node = _deepest(root, lo, hi)
    if node.type == "comment":  # (its text is judged alone: no literal reads it)
        return node.start_byte, node.end_byte
    innermost = node
    while innermost is not None and innermost.type not in _UNITS:
        innermost = innermost.parent
    within = []
    for child in node.children:  # across an edge of the region
        start, end = child.start_byte, child.end_byte
        if start < hi and end > lo:
            if not (lo <= start and end <= hi):
                return start, end
            within.append(child.type)
    parts = _WHOLE_PARTS if node.type in _HOLDS_WHOLE else _ABOVE_BINDINGS.get(node.type)
    if node.type in _WHOLE or (parts is not None and all(kind in parts for kind in within)):
        holder = node.parent
        call = holder.parent if holder is not None else None
        if (
            builders
            and holder is not None
            and holder.type in _ATTRSETS
            and call is not None
            and call.type == "apply_expression"
            and call.child_by_field_name("argument") == holder
        ):
            # writeTextFile { name = …; text = …; }: the text is judged by the name
            return call.start_byte, call.end_byte
        return ()
    if innermost is None:
        return None
    return innermost.start_byte, innermost.end_byte


def _point(data: bytes, offset: int) -> tuple[int, int]:
    """tree-sitter's (row, byte column) of a byte offset."""
    return data.count(b"\n", 0, offset), offset - (data.rfind(b"\n", 0, offset) + 1)
