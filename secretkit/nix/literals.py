"""Nix string literals: their values, exactly as Nix reads them.

The one unescaper: escapes resolved, ``''`` indentation stripped, interpolations kept
as their ``${…}`` source text; every character of a value maps back to its source
byte offset (:class:`NixString`), so a part of a value can be edited by span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from secretkit.lazy_re import lazy
from secretkit.nix.syntax import STRING_TYPES, Node, Tree, parse


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
    """A run of a literal's text with the source offset of each character."""

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


def _no_offsets(text: str, start: int) -> list[int]:
    return []


def _pieces(tree: Tree, node: Node, mapped: bool = True) -> tuple[list[_Piece], int, int]:
    """The parts of a literal; ``mapped=False``: without each character's offset."""
    src = tree.source
    char_offsets = _char_offsets if mapped else _no_offsets
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
            pieces.append(_Piece(text, char_offsets(text, a), raw=True))
        elif kind == "interpolation":
            pieces.append(_Piece(text, char_offsets(text, a), raw=False, interpolation=True))
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
            pieces.append(_Piece(value, [a] * len(value) if mapped else [], raw=indented))
        else:  # ERROR nodes and the like: keep the text
            pieces.append(_Piece(text, char_offsets(text, a), raw=False))
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


def literal(
    tree: Tree,
    node: Node,
    attrpath: list[str] | None = None,
    binding: Node | None = None,
) -> NixString:
    value, offsets, interpolations, content_start, content_end = _assemble(tree, node, True)
    first = offsets[0] if offsets else content_start
    line, column = tree.position(first)
    return NixString(
        start=int(node.start_byte),
        end=int(node.end_byte),
        value=value,
        has_interpolation=bool(interpolations),
        kind="indented" if node.type == "indented_string_expression" else "plain",
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


def string_parts(tree: Tree, node: Node) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The value of a string literal node and its interpolations' index ranges, as
    :func:`literal` has them, without mapping each character back to its byte (what
    a scan reads before it knows whether anything needs a span)."""
    if node.type == "indented_string_expression":
        pieces = _pieces(tree, node, False)[0]
        parts = _indented_parts(pieces)
        if parts is not None:
            return parts
    value, _offsets, interpolations, _start, _end = _assemble(tree, node, False)
    return value, tuple(interpolations)


_CONTENT_INDENT = lazy(r"(?m)^( *)[^ \n]")
_SLOT = "\ue000"  # stands for an interpolation while a text's indentation is stripped


def _indented_parts(pieces: list[_Piece]) -> tuple[str, tuple[tuple[int, int], ...]] | None:
    """:func:`_strip_indentation` of a ``''`` literal made of text and interpolations,
    done on its whole text at once (each interpolation one content character); None
    when it holds anything else (an error) or a character that would be mistaken."""
    texts: list[str] = []
    inserted: list[str] = []
    for piece in pieces:
        if piece.interpolation:
            texts.append(_SLOT)
            inserted.append(piece.text)
        elif piece.raw:
            texts.append(piece.text)
        else:
            return None
    text = "".join(texts)
    if text.count(_SLOT) != len(inserted):
        return None
    # the smallest indentation of the lines with content, then the first line and the
    # last one when they hold nothing but spaces
    strip = min(map(len, _CONTENT_INDENT.findall(text)), default=0)
    first_break = text.find("\n")
    last_break = text.rfind("\n")
    begin = first_break + 1 if first_break >= 0 and not text[:first_break].strip(" ") else 0
    end = len(text) if text[last_break + 1 :].strip(" ") else last_break + 1
    value = text[begin:end]
    if strip:
        value = re.sub(f"(?m)^ {{1,{strip}}}", "", value)
    if not inserted:
        return value, ()
    chunks = value.split(_SLOT)
    out = [chunks[0]]
    spans: list[tuple[int, int]] = []
    at = len(chunks[0])
    for text_of, chunk in zip(inserted, chunks[1:], strict=True):
        if spans and spans[-1][1] == at:  # right after another interpolation: one run
            spans[-1] = (spans[-1][0], at + len(text_of))
        else:
            spans.append((at, at + len(text_of)))
        out += [text_of, chunk]
        at += len(text_of) + len(chunk)
    return "".join(out), tuple(spans)


def _assemble(
    tree: Tree, node: Node, mapped: bool
) -> tuple[str, list[int], list[tuple[int, int]], int, int]:
    pieces, content_start, content_end = _pieces(tree, node, mapped)
    if node.type == "indented_string_expression":
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
    return "".join(text_parts), offsets, interpolations, content_start, content_end


def string_text(tree: Tree, node: Node) -> str:
    """The value of a string literal node, interpolations kept as their source text."""
    return literal(tree, node).value


def string_value(tree: Tree, node: Node) -> str | None:
    """The value of a plain ``"…"`` string literal without interpolation; None for
    anything else."""
    if node is None or node.type != "string_expression":
        return None
    if any(c.type == "interpolation" for c in node.named_children):
        return None
    return literal(tree, node).value


def unquote(text: str) -> str:
    """The value of the Nix string literal ``text`` (source text, quotes included)."""
    tree = parse(text.encode())
    node = next((c for c in tree.root.named_children if c.type in STRING_TYPES), None)
    return literal(tree, node).value if node is not None else text
