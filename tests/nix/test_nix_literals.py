"""secretkit.nix.literals: the value of a ``''`` literal read from its whole text at
once (string_parts) is the value of the piece-by-piece reading (literal)."""

from __future__ import annotations

import random
from collections.abc import Iterator

from secretkit.nix import literals
from secretkit.nix.syntax import STRING_TYPES, Node, parse

_PARTS = [
    " ", "  ", "    ", "\t", "\n", "\n", "\n  ", "x", "echo hi", "a b", "'", "$", "\\",
    "${x}", "${ y }", "${\n  z\n}", "${a}${b}", "''$", "'''", "''\\n", "''\\t", "''\\ ",
    "\ue000", "\u00e9t\u00e9", "\r\n",
]  # fmt: skip


def _indented(rng: random.Random) -> bytes:
    body = "".join(rng.choice(_PARTS) for _ in range(rng.randint(0, 14)))
    return ("{ a = ''" + body + "''; }").encode()


def test_whole_text_reading_matches_the_piece_reading() -> None:
    rng = random.Random(2024)
    fast = 0
    for _ in range(4000):
        tree = parse(_indented(rng))
        for node in (n for n in _strings(tree.root) if n.type == "indented_string_expression"):
            pieces = literals._pieces(tree, node, False)[0]
            value, _offsets, spans, _a, _b = literals._assemble(tree, node, False)
            whole = literals._indented_parts(pieces)
            if whole is not None:
                fast += 1
                assert whole == (value, tuple(spans)), tree.source
            full = literals.literal(tree, node)
            assert literals.string_parts(tree, node) == (full.value, full.interpolations)
    assert fast > 2500  # the whole-text reading is the one taken


def _strings(node: Node) -> Iterator[Node]:
    if node.type in STRING_TYPES:
        yield node
    for child in node.children:
        yield from _strings(child)
