"""Attributes Nix's parser rejects as "already defined": tree-sitter-nix accepts them, so
an edit that adds ``serviceConfig.EnvironmentFile = …;`` beside ``serviceConfig =
hardening;`` parses for us and for nobody else.

The rules are those of ``ParserState::addAttr`` (NixOS/nix, commit 03a6533d5bd4,
src/libexpr/include/nix/expr/parser-state.hh): in one attribute set or ``let``, a name
is given once, except that two attribute set literals given to the same name merge,
name by name and recursively (a name both give a non-set is given twice); ``a.b = …``
goes into the set literal ``a`` is given, or makes one.  Anything else ``a`` is given
(``a = cfg;``, ``inherit a;``) takes no ``a.b``.  ``${"a"}`` is the name ``a``; any other
computed name is never a clash.  Nix before the recursive merge (2.8, Debian's) also
refuses two set literals that give one name a set each: such files are accepted here,
as current Nix accepts them (Mic92/dotfiles has one).  Checked against
``nix-instantiate --parse`` in tests/nix/test_nix_duplicates.py.
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
    blocked: str = ""  # the part of ``path`` given a value (``serviceConfig = h;``), if any


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
                parts = [_name(tree, part) for part in path.named_children]
                value = cst.unwrap(child.child_by_field_name("expression"))
                given = _Set(value) if value is not None and value.type in cst.ATTRSETS else None
                _give(tree, names, parts, given, child.start_byte, out)
            elif child.type in ("inherit", "inherit_from"):
                attrs = child.child_by_field_name("attrs")
                for part in attrs.named_children if attrs is not None else ():
                    _give(tree, names, [_name(tree, part)], None, part.start_byte, out)
    return names


def _name(tree: Tree, part: Node) -> str | None:
    """An attribute's name; ``${"a"}`` is ``a`` (a string without interpolation in it)."""
    if part.type == "interpolation":
        inner = [c for c in part.named_children if c.type != "comment"]
        if len(inner) == 1 and inner[0].type == "string_expression":
            return cst.attr_name(tree, inner[0])
        return None
    return cst.attr_name(tree, part)


def _give(
    tree: Tree,
    names: dict[str, _Set | None],
    parts: list[str | None],
    given: _Set | None,
    start: int,
    out: list[Twice] | None,
) -> None:
    def clash(*inner: str, blocked: str = "") -> None:
        if out is not None:
            out.append(Twice(start, ".".join([*map(str, parts), *inner]), blocked))

    for i, part in enumerate(parts[:-1]):
        if part is None:
            return  # (a computed name: Nix keeps it apart, nothing clashes below it)
        if part not in names:
            names[part] = _Set(None)
        below = names[part]
        if below is None:
            clash(blocked=".".join(map(str, parts[: i + 1])))
            return
        names = below.names(tree)
    last = parts[-1] if parts else None
    if last is None:
        return
    # (an explicit stack: two sets merge as deep as they nest)
    todo: list[tuple[dict[str, _Set | None], str, _Set | None, tuple[str, ...]]] = [
        (names, last, given, ())
    ]
    while todo:
        into, name, value, inner = todo.pop()
        if name not in into:
            into[name] = value
            continue
        old = into[name]
        if old is None or value is None:
            clash(*inner)
            return
        mine = old.names(tree)
        for key, entry in reversed(value.names(tree).items()):
            todo.append((mine, key, entry, (*inner, key)))
