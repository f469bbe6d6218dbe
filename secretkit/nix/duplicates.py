"""Attributes Nix's parser rejects as "already defined": tree-sitter-nix accepts them, so
an edit that adds ``serviceConfig.EnvironmentFile = …;`` beside ``serviceConfig =
hardening;`` parses for us and for nobody else.

The rules are those of ``ExprAttrs`` building in Nix's parser (``addAttr`` in
src/libexpr/parser.y, NixOS/nix): in one attribute set or ``let``, a name may be given
once, except that two attribute set literals given to the same name merge (one level:
a name both give is given twice), and ``a.b = …`` goes into the set literal ``a`` is
given (or makes one).  Anything else ``a`` is given (``a = cfg;``, ``inherit a;``)
takes no ``a.b``.  A computed name (``${x}``) is never a clash.  Checked against
``nix-instantiate --parse`` in tests/nix/test_duplicates.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from secretkit.nix import cst
from secretkit.nix.syntax import Node, Tree

_LETS = (*cst.ATTRSETS, "let_expression")


@dataclass(frozen=True)
class Twice:
    """An attribute given twice: where the second is given, and its dotted path (from the
    set or ``let`` it is given in)."""

    start: int
    path: str


class _Set:
    """An attribute set literal (or the one ``a.b = …`` makes), its names read when asked."""

    __slots__ = ("_names", "node")

    def __init__(self, node: Node | None) -> None:
        self.node = node
        self._names: dict[str, _Set | None] | None = None if node is not None else {}

    def names(self, tree: Tree) -> dict[str, _Set | None]:
        if self._names is None:
            self._names = _names(tree, self.node, None)
        return self._names


def defined_twice(tree: Tree) -> list[Twice]:
    """Every attribute a set or ``let`` of ``tree`` gives twice, in source order."""
    out: list[Twice] = []
    stack = [tree.root]
    while stack:
        node = stack.pop()
        if node.type in _LETS:
            _names(tree, node, out)
        stack.extend(reversed(node.named_children))
    return sorted(out, key=lambda t: t.start)


def _names(tree: Tree, node: Node, out: list[Twice] | None) -> dict[str, _Set | None]:
    """The names ``node`` (a set or ``let``) gives, each to its set literal or to None
    (anything else); clashes into ``out`` (None: not reported, the set's own walk does)."""
    names: dict[str, _Set | None] = {}
    for holder in node.named_children:
        if holder.type != "binding_set":
            continue
        for child in holder.named_children:
            if child.type == "binding":
                path = child.child_by_field_name("attrpath")
                if path is None:
                    continue
                parts = [cst.attr_name(tree, part) for part in path.named_children]
                value = cst.unwrap(child.child_by_field_name("expression"))
                given = _Set(value) if value is not None and value.type in cst.ATTRSETS else None
                _give(tree, names, parts, given, child.start_byte, out)
            elif child.type in ("inherit", "inherit_from"):
                attrs = child.child_by_field_name("attrs")
                for part in attrs.named_children if attrs is not None else ():
                    _give(tree, names, [cst.attr_name(tree, part)], None, part.start_byte, out)
    return names


def _give(
    tree: Tree,
    names: dict[str, _Set | None],
    parts: list[str | None],
    given: _Set | None,
    start: int,
    out: list[Twice] | None,
) -> None:
    def clash(*inner: str) -> None:
        if out is not None:
            out.append(Twice(start, ".".join([*map(str, parts), *inner])))

    for part in parts[:-1]:
        if part is None:
            return  # (a computed name: Nix keeps it apart, nothing clashes below it)
        if part not in names:
            names[part] = _Set(None)
        inner = names[part]
        if inner is None:
            clash()
            return
        names = inner.names(tree)
    last = parts[-1] if parts else None
    if last is None:
        return
    if last not in names:
        names[last] = given
        return
    old = names[last]
    if old is None or given is None:
        clash()
        return
    mine = old.names(tree)
    for name, value in given.names(tree).items():
        if name in mine:
            clash(name)
            return
        mine[name] = value
