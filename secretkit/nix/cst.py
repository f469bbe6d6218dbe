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

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

Node = Any  # a tree_sitter.Node

_PARSER: Any = None

STRING_TYPES = ("string_expression", "indented_string_expression")


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
            tree_sitter_nix = importlib.import_module("tree_sitter_nix")
        finally:
            sys.path[:] = saved
        _PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_nix.language()))
    return _PARSER


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
    """Every binding in source order (let bindings included)."""
    for node in _walk(tree.root):
        if node.type != "binding":
            continue
        names = node.child_by_field_name("attrpath")
        value = node.child_by_field_name("expression")
        if names is None or value is None:
            continue
        yield Binding(
            attr_names(tree, names),
            value,
            int(node.start_byte),
            int(node.end_byte),
            path_of(tree, node),
        )


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
    is only spaces.  Escapes and interpolations are content."""
    # Flatten into characters tagged (char, offset, raw).
    chars: list[tuple[str, int, bool, bool]] = []
    for piece in pieces:
        for ch, off in zip(piece.text, piece.offsets, strict=False):
            chars.append((ch, off, piece.raw, piece.interpolation))
    lines: list[list[tuple[str, int, bool, bool]]] = [[]]
    for item in chars:
        lines[-1].append(item)
        if item[0] == "\n" and item[2]:
            lines.append([])
    min_indent: int | None = None
    for line in lines:
        indent = 0
        has_content = False
        for ch, _off, raw, _interp in line:
            if raw and ch == " ":
                indent += 1
                continue
            if raw and ch == "\n":
                break
            has_content = True
            break
        if has_content:
            min_indent = indent if min_indent is None else min(min_indent, indent)
    strip = min_indent or 0
    out: list[tuple[str, int, bool, bool]] = []
    for index, line in enumerate(lines):
        removed = 0
        body = line
        while removed < strip and body and body[0][2] and body[0][0] == " ":
            body = body[1:]
            removed += 1
        only_space = all(c[2] and c[0] in " \n" for c in line)
        if index == 0 and only_space and line and line[-1][0] == "\n":
            continue  # first line holding nothing but spaces
        if index == len(lines) - 1 and all(c[2] and c[0] == " " for c in line):
            continue  # last line holding nothing but spaces
        out.extend(body)
    merged: list[_Piece] = []
    for ch, off, raw, interp in out:
        if merged and merged[-1].interpolation == interp and merged[-1].raw == raw:
            merged[-1].text += ch
            merged[-1].offsets.append(off)
        else:
            merged.append(_Piece(ch, [off], raw, interp))
    return merged


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


def string_nodes(tree: NixTree) -> Iterator[tuple[Node, list[str], Node | None]]:
    """``(node, attrpath, enclosing binding)`` of every string literal used as a value,
    in source order, in one pass (attribute names excluded)."""
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
            for child in children:
                if child.type == "attrpath":
                    continue
                pushed.append((child, path + names, node))
        elif kind == "list_expression":
            index = 0
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
