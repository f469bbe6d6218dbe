"""Nix concrete syntax tree: string literals and bindings with attribute paths.

Parsing goes through tree-sitter-nix; Nix is never evaluated.  Everything handed
out carries byte offsets into the original source so later stages can edit by
spans (:mod:`secretkit.nix.edits`).

* :func:`parse` — bytes → :class:`NixTree` (a file with syntax errors still
  parses; ``has_errors``/``error_spans`` say where).
* :func:`strings` — every string literal (``"…"`` and ``''…''``) with its value
  (escapes resolved, ``''`` indentation stripped, interpolations kept as their
  ``${…}`` source text), attribute path and enclosing binding.
* :func:`bindings` — every ``a.b = …;`` binding with its own attribute path and
  the path of the attrset it sits in.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from secretkit.errors import UserError

Node = Any  # a tree_sitter.Node

_PARSER: Any = None

STRING_TYPES = ("string_expression", "indented_string_expression")
# Attribute paths longer than this (bindings and list elements nested in each other)
# are refused: no configuration needs them, and every path is a list of this length.
MAX_PATH_DEPTH = 2000


class NixTooDeep(UserError):
    """A Nix file nests attribute sets, lets or lists deeper than :data:`MAX_PATH_DEPTH`."""


def _deeper(path: list[str], more: int) -> None:
    if len(path) + more > MAX_PATH_DEPTH:
        raise NixTooDeep(
            f"a Nix file nests attribute sets, lets or lists more than {MAX_PATH_DEPTH} "
            "levels deep; it was not read",
            hint="flatten the nesting (no NixOS configuration needs this depth)",
        )


def _parser() -> Any:
    global _PARSER
    if _PARSER is None:
        import importlib
        import os
        import sys

        # ``python -m`` puts the working directory first on sys.path: a scanned
        # repository holding a ``tree_sitter/`` directory must not be imported.
        saved = sys.path[:]
        here = os.getcwd()
        sys.path[:] = [p for p in sys.path if p not in ("", ".", here)]
        try:
            tree_sitter = importlib.import_module("tree_sitter")
            language = _nix_language()
        finally:
            sys.path[:] = saved
        _PARSER = tree_sitter.Parser(tree_sitter.Language(language))
    return _PARSER


def _nix_language() -> Any:
    """``tree_sitter_nix.language()``, loaded from the grammar's binding alone: the
    package's ``__init__`` imports ``importlib.resources`` (for its query files, unused
    here), a few ms of every hook run's start-up."""
    import importlib
    import importlib.machinery
    import importlib.util
    import sys

    loaded = sys.modules.get("tree_sitter_nix")
    package = importlib.util.find_spec("tree_sitter_nix") if loaded is None else None
    where = package.submodule_search_locations if package is not None else None
    spec = (
        importlib.machinery.PathFinder.find_spec("tree_sitter_nix._binding", where)
        if where
        else None
    )
    if spec is None or spec.loader is None:
        return importlib.import_module("tree_sitter_nix").language()
    binding = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(binding)
    return binding.language()


@dataclass
class NixTree:
    """A parsed Nix file: the tree-sitter root node and the source bytes."""

    root: Node
    source: bytes
    has_errors: bool
    error_spans: list[tuple[int, int]] = field(default_factory=list)
    _tree: Any = field(default=None, repr=False)
    _line_starts: list[int] | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"NixTree(bytes={len(self.source)}, has_errors={self.has_errors})"

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a byte offset; the column counts characters."""
        import bisect

        if self._line_starts is None:
            starts = [0]
            find = self.source.find
            pos = find(b"\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find(b"\n", pos + 1)
            self._line_starts = starts
        index = bisect.bisect_right(self._line_starts, offset) - 1
        line_start = self._line_starts[index]
        column = len(self.source[line_start:offset].decode("utf-8", "replace")) + 1
        return index + 1, column


# ``{ a, b, }:`` — a trailing comma in a function's formals is valid Nix (nixfmt's RFC
# style writes it) that tree-sitter-nix rejects.  It is parsed with the comma replaced
# by a space: same length, so every node's offsets hold for the original bytes.
_TRAILING_FORMAL_COMMA = re.compile(rb",((?:\s|#[^\n]*)*\}\s*(?:@\s*[A-Za-z_][\w'-]*\s*)?:)")


def parse(source: bytes) -> NixTree:
    """Parse ``source``; never raises on malformed Nix (see ``has_errors``)."""
    tree = _parser().parse(source)
    if tree.root_node.has_error and b"," in source:
        patched = _TRAILING_FORMAL_COMMA.sub(lambda m: b" " + m.group(1), source)
        if patched != source:
            retry = _parser().parse(patched)
            if not retry.root_node.has_error:
                tree = retry
    root = tree.root_node
    spans: list[tuple[int, int]] = []
    if root.has_error:
        for node in _walk(root):
            if node.is_error or node.is_missing:
                spans.append((int(node.start_byte), int(node.end_byte)))
    return NixTree(root, source, bool(root.has_error), spans, tree)


def node_text(tree: NixTree, node: Node) -> str:
    """The source text of ``node`` (undecodable bytes replaced)."""
    return tree.source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


# ---------------------------------------------------------------------------
# attribute paths
# ---------------------------------------------------------------------------


def attr_names(tree: NixTree, attrpath: Node) -> list[str]:
    """The names of an ``attrpath`` node: identifiers, quoted names by value,
    computed names (``${…}``) as their source text."""
    names = []
    for child in attrpath.named_children:
        if child.type == "identifier":
            names.append(node_text(tree, child))
        elif child.type in STRING_TYPES:
            names.append(_literal(tree, child).value)
        else:
            names.append(node_text(tree, child))
    return names


def path_of(tree: NixTree, node: Node) -> list[str]:
    """The attribute path leading to ``node``: binding names from the outside in,
    list elements as ``[i]`` (0-based); every other construct is transparent."""
    parts: list[list[str]] = []
    child = node
    parent = node.parent
    while parent is not None:
        kind = parent.type
        if kind == "binding" and child.type != "attrpath":
            names = parent.child_by_field_name("attrpath")
            if names is not None:
                parts.append(attr_names(tree, names))
        elif kind == "list_expression":
            index = 0
            for element in parent.named_children:
                if element.id == child.id:
                    break
                if element.type != "comment":
                    index += 1
            parts.append([f"[{index}]"])
        child = parent
        parent = parent.parent
    out: list[str] = []
    for names in reversed(parts):
        out.extend(names)
    return out


def _enclosing_binding(node: Node) -> Node | None:
    parent = node.parent
    while parent is not None:
        if parent.type == "binding":
            return parent
        parent = parent.parent
    return None


@dataclass(frozen=True)
class Binding:
    """``a.b = value;``: its own names, the value node, its byte span and the path of
    the attrset (or let block) it belongs to."""

    attrpath: list[str]
    value: Node
    start: int
    end: int
    attrset_path: list[str]

    @property
    def full_path(self) -> list[str]:
        return [*self.attrset_path, *self.attrpath]


def bindings(tree: NixTree) -> Iterator[Binding]:
    """Every binding in source order (let bindings included), in one pass from the top
    (walking up from each binding made deeply nested files quadratic)."""
    stack: list[tuple[Node, list[str]]] = [(tree.root, [])]
    while stack:
        node, path = stack.pop()
        kind = node.type
        children = node.children
        if kind == "binding":
            names_node = node.child_by_field_name("attrpath")
            value = node.child_by_field_name("expression")
            names = attr_names(tree, names_node) if names_node is not None else []
            if names_node is not None and value is not None:
                yield Binding(names, value, int(node.start_byte), int(node.end_byte), path)
            _deeper(path, len(names))
            inner = path + names
            stack.extend((c, inner) for c in reversed(children) if c.type != "attrpath")
        elif kind == "list_expression":
            pushed = []
            index = 0
            _deeper(path, 1)
            for child in children:
                if child.is_named and child.type != "comment":
                    pushed.append((child, [*path, f"[{index}]"]))
                    index += 1
                else:
                    pushed.append((child, path))
            stack.extend(reversed(pushed))
        elif kind != "attrpath":
            stack.extend((c, path) for c in reversed(children))


# ---------------------------------------------------------------------------
# string literals
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NixString:
    """One string literal.  ``start``/``end`` span the whole literal (quotes
    included); ``value`` is its text; ``offsets[i]`` is the source byte offset of
    ``value[i]`` (``offsets[len(value)]`` is the end of the content), so a
    substring of the value maps back to source bytes with :meth:`span_of`."""

    start: int
    end: int
    value: str
    has_interpolation: bool
    kind: str
    attrpath: list[str]
    binding_start: int
    binding_end: int
    line: int
    column: int
    content_start: int = 0
    content_end: int = 0
    offsets: tuple[int, ...] = field(default=(), repr=False, compare=False)
    interpolations: tuple[tuple[int, int], ...] = field(default=(), repr=False)

    def __repr__(self) -> str:
        return (
            f"NixString({self.kind}, {'.'.join(self.attrpath) or '<top>'}, "
            f"line={self.line}, len={len(self.value)})"
        )

    def span_of(self, i: int, j: int) -> tuple[int, int]:
        """Source byte span of ``value[i:j]``."""
        if not self.offsets:
            return self.content_start, self.content_end
        start = self.offsets[i]
        end = self.offsets[j] if j < len(self.offsets) else self.content_end
        return start, max(start, end)

    def literal_text(self, i: int, j: int) -> bool:
        """Whether ``value[i:j]`` comes from literal text (not from an interpolation)."""
        return not any(a < j and i < b for a, b in self.interpolations)


_PLAIN_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


@dataclass
class _Piece:
    text: str
    offsets: list[int]  # source offset per character
    raw: bool  # literal fragment (subject to indentation stripping)
    interpolation: bool = False


def _char_offsets(text: str, start: int) -> list[int]:
    if text.isascii():
        return list(range(start, start + len(text)))
    offsets = []
    pos = start
    for ch in text:
        offsets.append(pos)
        pos += len(ch.encode("utf-8", "surrogatepass"))
    return offsets


def _pieces(tree: NixTree, node: Node) -> tuple[list[_Piece], int, int]:
    src = tree.source
    children = node.children
    if len(children) >= 2:
        content_start = int(children[0].end_byte)
        content_end = int(children[-1].start_byte)
    else:
        content_start = content_end = int(node.end_byte)
    indented = node.type == "indented_string_expression"
    pieces: list[_Piece] = []
    for child in children[1:-1] if len(children) >= 2 else ():
        a, b = int(child.start_byte), int(child.end_byte)
        text = src[a:b].decode("utf-8", "replace")
        kind = child.type
        if kind == "string_fragment":
            pieces.append(_Piece(text, _char_offsets(text, a), raw=True))
        elif kind == "interpolation":
            pieces.append(_Piece(text, _char_offsets(text, a), raw=False, interpolation=True))
        elif kind == "dollar_escape":
            # "\$" / "''$": the following fragment holds the "$"; the escape yields nothing
            continue
        elif kind == "escape_sequence":
            if indented:
                if text == "'''":
                    value = "''"
                else:  # ''\x
                    ch = text[3:] if len(text) > 3 else ""
                    value = _PLAIN_ESCAPES.get(ch, ch)
            else:
                ch = text[1:]
                value = _PLAIN_ESCAPES.get(ch, ch)
            # Nix strips indentation after unescaping: escapes count as text.
            pieces.append(_Piece(value, [a] * len(value), raw=indented))
        else:  # ERROR nodes and the like: keep the text
            pieces.append(_Piece(text, _char_offsets(text, a), raw=False))
    return pieces, content_start, content_end


def _strip_indentation(pieces: list[_Piece]) -> list[_Piece]:
    """Nix's rule for ``''`` strings: remove the smallest indentation of the lines
    that have content, drop a first line that is only spaces and a last line that
    is only spaces.  Escapes and interpolations are content.  Works on runs of
    text (a line is a list of pieces), never character by character."""
    lines: list[list[_Piece]] = [[]]
    for piece in pieces:
        if not piece.text:
            continue
        if not (piece.raw and "\n" in piece.text):
            lines[-1].append(piece)
            continue
        text, offsets, at = piece.text, piece.offsets, 0
        while (nl := text.find("\n", at)) != -1:
            lines[-1].append(
                _Piece(text[at : nl + 1], offsets[at : nl + 1], True, piece.interpolation)
            )
            lines.append([])
            at = nl + 1
        if at < len(text):
            lines[-1].append(_Piece(text[at:], offsets[at:], True, piece.interpolation))
    min_indent: int | None = None
    for line in lines:
        indent = 0
        for seg in line:
            if not seg.raw:
                break  # content
            rest = seg.text.lstrip(" ")
            indent += len(seg.text) - len(rest)
            if not rest:
                continue
            if rest[0] == "\n":
                indent = -1  # no content on this line
            break
        else:
            indent = -1
        if indent >= 0:
            min_indent = indent if min_indent is None else min(min_indent, indent)
    strip = min_indent or 0
    runs: list[tuple[bool, bool, list[str], list[int]]] = []  # raw, interpolation, text
    for index, line in enumerate(lines):
        if (
            index == 0
            and line
            and line[-1].text.endswith("\n")
            and all(seg.raw and not seg.text.strip(" \n") for seg in line)
        ):
            continue  # first line holding nothing but spaces
        if index == len(lines) - 1 and all(seg.raw and not seg.text.strip(" ") for seg in line):
            continue  # last line holding nothing but spaces
        left = strip
        for seg in line:
            if left and seg.raw:
                rest = seg.text.lstrip(" ")
                cut = min(left, len(seg.text) - len(rest))
                left = left - cut if cut == len(seg.text) else 0
                if cut:
                    seg = _Piece(seg.text[cut:], seg.offsets[cut:], True, seg.interpolation)
                    if not seg.text:
                        continue
            else:
                left = 0
            if runs and runs[-1][0] == seg.raw and runs[-1][1] == seg.interpolation:
                runs[-1][2].append(seg.text)
                runs[-1][3].extend(seg.offsets)
            else:
                runs.append((seg.raw, seg.interpolation, [seg.text], list(seg.offsets)))
    return [_Piece("".join(texts), offsets, raw, interp) for raw, interp, texts, offsets in runs]


def _literal(
    tree: NixTree,
    node: Node,
    attrpath: list[str] | None = None,
    binding: Node | None = None,
) -> NixString:
    pieces, content_start, content_end = _pieces(tree, node)
    kind = "indented" if node.type == "indented_string_expression" else "plain"
    if kind == "indented":
        pieces = _strip_indentation(pieces)
    text_parts: list[str] = []
    offsets: list[int] = []
    interpolations: list[tuple[int, int]] = []
    length = 0
    for piece in pieces:
        if piece.interpolation:
            interpolations.append((length, length + len(piece.text)))
        text_parts.append(piece.text)
        offsets.extend(piece.offsets)
        length += len(piece.text)
    value = "".join(text_parts)
    first = offsets[0] if offsets else content_start
    line, column = tree.position(first)
    return NixString(
        start=int(node.start_byte),
        end=int(node.end_byte),
        value=value,
        has_interpolation=bool(interpolations),
        kind=kind,
        attrpath=attrpath if attrpath is not None else [],
        binding_start=int(binding.start_byte) if binding is not None else -1,
        binding_end=int(binding.end_byte) if binding is not None else -1,
        line=line,
        column=column,
        content_start=content_start,
        content_end=content_end,
        offsets=tuple(offsets),
        interpolations=tuple(interpolations),
    )


_QUERY: Any = None
_QUERY_TEXT = """
(string_expression) @s
(indented_string_expression) @s
(binding) @b
(attrpath (string_expression)) @a
(attrpath (interpolation)) @a
(list_expression) @l
"""
_ORDER = {"b": 0, "l": 1, "a": 2, "s": 3}


def string_nodes(tree: NixTree) -> Iterator[tuple[Node, list[str], Node | None]]:
    """``(node, attrpath, enclosing binding)`` of every string literal used as a value,
    in source order (attribute names excluded).

    tree-sitter's query engine finds the strings and the constructs that name them
    (bindings, lists, attribute paths) in C; one sweep in source order then keeps
    the open ones on a stack, so Python touches only those nodes, never the whole
    tree (:func:`string_nodes_walk` is the same by a plain walk)."""
    global _QUERY
    import tree_sitter

    if _QUERY is None:
        _QUERY = tree_sitter.Query(_parser().language, _QUERY_TEXT)
    captures = tree_sitter.QueryCursor(_QUERY).captures(tree.root)
    events = [
        (int(node.start_byte), -int(node.end_byte), _ORDER[name], node)
        for name, nodes in captures.items()
        for node in nodes
    ]
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    # open constructs: (end byte, kind, node, names or element starts, start byte)
    stack: list[tuple[int, str, Node, list[Any], int]] = []
    for start, neg_end, order, node in events:
        while stack and (stack[-1][0] < start or (stack[-1][0] == start and stack[-1][4] < start)):
            stack.pop()
        if order == 3:
            if any(entry[1] == "a" for entry in stack):
                continue  # a quoted attribute name
            path: list[str] = []
            binding = None
            for _end, kind, container, extra, _start in stack:
                if kind == "b":
                    if not extra:
                        names_node = container.child_by_field_name("attrpath")
                        extra.append(attr_names(tree, names_node) if names_node else [])
                    path.extend(extra[0])
                    binding = container
                elif kind == "l":  # the list element holding the string
                    path.append(f"[{bisect.bisect_right(extra, start) - 1}]")
            yield node, path, binding
            stack.append((-neg_end, "s", node, [], start))
        elif order == 0:  # its names are read when a string inside needs them
            stack.append((-neg_end, "b", node, [], start))
            if len(stack) > MAX_PATH_DEPTH:  # the walk's limit, counted by open constructs
                _deeper([], len(stack))
        elif order == 1:
            starts = [
                int(child.start_byte)
                for child in node.children
                if child.is_named and child.type != "comment"
            ]
            stack.append((-neg_end, "l", node, starts, start))
            if len(stack) > MAX_PATH_DEPTH:
                _deeper([], len(stack))
        else:
            stack.append((-neg_end, "a", node, [], start))


def string_nodes_walk(tree: NixTree) -> Iterator[tuple[Node, list[str], Node | None]]:
    """:func:`string_nodes` by walking every node in Python (the reference)."""
    stack: list[tuple[Node, list[str], Node | None]] = [(tree.root, [], None)]
    while stack:
        node, path, binding = stack.pop()
        kind = node.type
        if kind in STRING_TYPES:
            yield node, path, binding
        children = node.children
        if not children:
            continue
        pushed: list[tuple[Node, list[str], Node | None]] = []
        if kind == "binding":
            names_node = node.child_by_field_name("attrpath")
            names = attr_names(tree, names_node) if names_node is not None else []
            _deeper(path, len(names))
            inner = path + names
            for child in children:
                if child.type == "attrpath":
                    continue
                pushed.append((child, inner, node))
        elif kind == "list_expression":
            index = 0
            _deeper(path, 1)
            for child in children:
                if child.is_named and child.type != "comment":
                    pushed.append((child, [*path, f"[{index}]"], binding))
                    index += 1
        elif kind == "attrpath":
            continue
        else:
            pushed = [(child, path, binding) for child in children]
        stack.extend(reversed(pushed))


def strings(tree: NixTree) -> list[NixString]:
    """Every string literal used as a value (attribute names excluded), source order."""
    return [_literal(tree, node, path, binding) for node, path, binding in string_nodes(tree)]


def string_from(tree: NixTree, node: Node, attrpath: list[str], binding: Node | None) -> NixString:
    """The :class:`NixString` of a node from :func:`string_nodes` (path already known)."""
    return _literal(tree, node, attrpath, binding)


def string_at(tree: NixTree, node: Node) -> NixString:
    """The :class:`NixString` of one string node."""
    return _literal(tree, node, path_of(tree, node), _enclosing_binding(node))


def comments(tree: NixTree) -> Iterator[tuple[int, int, str]]:
    """``(start, end, text)`` of every comment."""
    for node in _walk(tree.root):
        if node.type == "comment":
            yield int(node.start_byte), int(node.end_byte), node_text(tree, node)
