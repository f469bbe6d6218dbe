"""A version of a Nix file scanned from the scan of another version of it.

In a history most blobs of a ``.nix`` path differ from the version before by a few
lines.  :func:`scan` takes the previous version's :class:`NixScan` and reads only
what changed: tree-sitter re-parses the edited old tree (reusing what did not
change), and the literals and comments outside the changed region keep the hits
they had, shifted.  The hits are the same as a whole scan's
(:func:`secretkit.scan.nix.scan_nix`) because a literal's hits depend only on the
literal, its ancestors and the file's facts (:func:`secretkit.scan.nix.literal_hits`),
and the region is grown until nothing outside it can read a change:

* the region starts as the edit (an empty one where text was only removed: the
  old tree sees what went) plus every range whose syntax tree-sitter says changed
  (``Tree.changed_ranges``);
* in both trees, every node meeting the region either holds it, lies inside it, or
  the region grows to cover the node; a node holding it must pass nothing the region
  changes on to the rest of what it holds (:func:`_passes`): a binding only when the
  region lies after its ``=`` (its name is read by the strings below it), a list only
  when the region lies within one element (the others' positions), a function
  application only when the region lies in its argument (its function's name is
  read) and, in a file that calls builders, not in an attribute set handed to one
  (``writeTextFile { name = …; text = …; }``: the text is judged by the name);
* the whole-file facts are equal: the token matches and the comments read outside
  the region, and which names, builders and vendor formats the file can hold.

Otherwise the file is scanned whole: syntax errors, the ``secretkit: allow`` mark
(allowed lines), ``/etc/`` paths (a ``*File`` option's ``/etc/x`` makes
``environment.etc.x.text`` a secret anywhere in the file), or a region over half
the file.  tests/scan/test_scan_nix_delta.py compares :func:`scan` with the whole
scan on every version of generated histories.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from typing import Any

from secretkit.scan.hits import ALLOW_MARK, Hit, merge
from secretkit.scan.nix import (
    FileFacts,
    comment_hits,
    comment_spans,
    file_facts,
    literal_hits,
)

Spans = list[tuple[int, int, list[Hit]]]
# What holds a region and passes nothing about it to the rest of what it holds.
_OPEN = frozenset(
    {
        "source_code",
        "binding_set",
        "attrset_expression",
        "rec_attrset_expression",
        "let_expression",
        "function_expression",
        "formals",
        "formal",
        "with_expression",
        "assert_expression",
        "if_expression",
        "parenthesized_expression",
        "binary_expression",
        "unary_expression",
        "select_expression",
        "has_attr_expression",
    }
)
_ATTRSETS = ("attrset_expression", "rec_attrset_expression")


@dataclass
class NixScan:
    """What a scan of one version of a Nix file found, kept to scan the next one."""

    data: bytes
    raw: Any  # the tree_sitter.Tree of ``data`` (without errors)
    literals: Spans  # (start, end, hits) of each literal with hits, in source order
    comments: Spans  # the same for comments
    tokens: list[tuple[int, int, str, str, str]]  # the whole-file token matches (bytes)
    spans: list[tuple[int, int]]  # the comments read
    flags: tuple[bool, bool, bool]

    def __repr__(self) -> str:  # (the hits hold values)
        return f"NixScan(bytes={len(self.data)}, hits={len(self.literals) + len(self.comments)})"


class Versions:
    """The last :class:`NixScan` of a scan of many blobs, by path: versions of a path
    handed over one after the other are each scanned from the one before."""

    def __init__(self) -> None:
        self.path: str | None = None
        self.last: NixScan | None = None

    def scan(self, path: str, data: bytes) -> tuple[list[Hit], bool]:
        previous = self.last if path == self.path else None
        hits, errors, self.last = scan(data, previous)
        self.path = path
        return hits, errors


def scan(data: bytes, previous: NixScan | None) -> tuple[list[Hit], bool, NixScan | None]:
    """The hits of one Nix file (as :func:`secretkit.scan.nix.scan_nix`), whether it
    had parse errors, and what the next version can be scanned from (None when it
    cannot: errors, ``/etc/``, the allow mark)."""
    followable = b"/etc/" not in data and ALLOW_MARK.encode() not in data
    if previous is not None and followable:
        done = _rescan(previous, data)
        if done is not None:
            return done
    return _whole(data, followable)


def _whole(data: bytes, followable: bool) -> tuple[list[Hit], bool, NixScan | None]:
    from secretkit.nix import cst

    tree = cst.parse(data)
    facts = file_facts(data)
    literals = literal_hits(tree, facts, list(cst.value_strings(tree)))
    spans = comment_spans(tree, facts)
    comments = comment_hits(tree, facts, spans)
    hits = merge(_all(literals) + _all(comments))
    kept = None
    raw = tree._tree
    # (a tree parsed from a patched source, see cst.parse, cannot be edited)
    if followable and not tree.has_errors and raw is not None and raw.root_node.text == data:
        kept = NixScan(data, raw, literals, comments, _tokens(facts), spans, _flags(facts))
    return hits, tree.has_errors, kept


def _rescan(previous: NixScan, data: bytes) -> tuple[list[Hit], bool, NixScan] | None:
    from secretkit.nix import cst
    from secretkit.nix.syntax import NixTree, _parser

    old = previous.data
    facts = file_facts(data)
    flags = _flags(facts)
    if flags != previous.flags:
        return None
    edits = _edits(old, data)
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
    for changed in edited.changed_ranges(raw):
        regions = _cover(regions, changed.start_byte, changed.end_byte, 0)
    roots = (raw.root_node, previous.raw.root_node)
    marks: tuple[list[tuple[int, int]], list[tuple[int, int]]] = (
        [],
        [(start, end) for start, end, _hits in previous.literals],
    )
    grown = True
    while grown:  # grow the regions in both trees until neither widens one
        grown = False
        for side in (0, 1):
            for region in regions:
                lo, hi = region[2 * side], region[2 * side + 1]
                wider = _grow(roots[side], lo, hi, facts.builders, marks[side])
                if wider is None:
                    return None
                before = regions
                for at, until in wider:
                    regions = _cover(regions, at, until, side)
                if regions != before:
                    grown = True
                    break
    if 2 * sum(r[1] - r[0] for r in regions) > len(data):
        return None  # most of the file: read whole
    tokens = _tokens(facts)
    if _outside(previous.tokens, regions) != _inside_none(tokens, regions):
        return None
    tree = NixTree(raw.root_node, data, False, [], raw)
    spans = comment_spans(tree, facts)
    if _outside(previous.spans, regions) != _inside_none(spans, regions):
        return None
    nodes = [
        n
        for lo, hi, _a0, _a1 in regions
        for n in cst.value_strings(tree, (lo, hi))
        if lo <= n[3] and n[4] <= hi
    ]
    inside = [(a, b) for a, b in spans if any(lo <= a and b <= hi for lo, hi, _, _ in regions)]
    literals = _merge_spans(previous.literals, literal_hits(tree, facts, nodes), regions)
    comments = _merge_spans(previous.comments, comment_hits(tree, facts, inside), regions)
    if literals is None or comments is None:
        return None
    hits = merge(_all(literals) + _all(comments))
    return hits, False, NixScan(data, raw, literals, comments, tokens, spans, flags)


def _edits(old: bytes, new: bytes) -> list[tuple[int, int, int, int]]:
    """``(old start, old end, new start, new end)`` of each changed run of lines,
    ascending: the common start and end cut off, the rest compared line by line."""
    start = _common_prefix(old, new)
    same_end = _common_suffix(old, new, min(len(old), len(new)) - start)
    start = old.rfind(b"\n", 0, start) + 1  # (whole lines)
    old_end, new_end = len(old) - same_end, len(new) - same_end
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
        edit = (a_at[i1], a_at[i2], b_at[j1], b_at[j2])
        if edits and edits[-1][1] == edit[0] and edits[-1][3] == edit[2]:
            edit = (edits[-1][0], edit[1], edits[-1][2], edit[3])
            edits.pop()
        edits.append(edit)
    return edits or [(start, old_end, start, new_end)]


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


def _all(spans: Spans) -> list[Hit]:
    return [hit for _start, _end, hits in spans for hit in hits]


def _flags(facts: FileFacts) -> tuple[bool, bool, bool]:
    return facts.keyed_file, facts.builders, facts.vendor()


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


def _grow(
    root: Any, lo: int, hi: int, builders: bool, marks: list[tuple[int, int]]
) -> list[tuple[int, int]] | None:
    """What the region ``[lo, hi)`` must cover in the tree under ``root``: the first
    node it must grow over (see the module's docstring), or literals with hits
    (``marks``) a list moves on, or ``[]`` for nothing; None for the whole file."""
    stack = [root]
    while stack:
        node = stack.pop()
        start, end = node.start_byte, node.end_byte
        if end <= lo or start >= hi or (lo <= start and end <= hi):
            continue  # misses the region or lies inside it
        kind = node.type
        if kind == "list_expression" and not _in_one_element(node, lo, hi):
            # the elements after the region may move: what had hits there is read again
            moved = [(a, b) for a, b in marks if a >= lo and b <= end and not b <= hi]
            if moved:
                return moved
        elif kind not in _OPEN and not _passes(node, lo, hi, builders):
            return None if node == root else [(start, end)]
        stack.extend(c for c in node.children if c.end_byte > lo and c.start_byte < hi)
    return []


def _in_one_element(node: Any, lo: int, hi: int) -> bool:
    return any(
        c.start_byte <= lo and hi <= c.end_byte for c in node.named_children if c.type != "comment"
    )


def _passes(node: Any, lo: int, hi: int, builders: bool) -> bool:
    """Whether ``node``, meeting ``[lo, hi)``, passes nothing about what is there on
    to the rest of what it holds (see the module's docstring)."""
    kind = node.type
    if kind == "binding":
        equals = next((c for c in node.children if c.type == "="), None)
        return equals is not None and equals.end_byte <= lo
    if kind == "apply_expression":
        function = node.child_by_field_name("function")
        if function is None or function.end_byte > lo:
            return False
        argument = node.child_by_field_name("argument")
        return not (builders and argument is not None and argument.type in _ATTRSETS)
    return False


def _point(data: bytes, offset: int) -> tuple[int, int]:
    """tree-sitter's (row, byte column) of a byte offset."""
    return data.count(b"\n", 0, offset), offset - (data.rfind(b"\n", 0, offset) + 1)


def _common_prefix(a: bytes, b: bytes) -> int:
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:  # (slices compare in C: a few passes instead of a loop per byte)
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: bytes, b: bytes, limit: int) -> int:
    lo, hi = 0, max(0, limit)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid :] == b[len(b) - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return lo
