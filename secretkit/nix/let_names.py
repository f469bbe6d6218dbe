"""Computed names a ``let`` of the same file settles: ``sops.secrets."${category}/${app}/env"``
with ``let category = "services"; app = "radarr"; in …`` is ``"services/radarr/env"``,
and so is ``config.sops.secrets."${category}/${app}/env".path`` under that ``let``.

:func:`resolver` turns ``${x}`` into a string when ``x`` is bound by a ``let`` around
it (through further let-bound names) to a string literal whose own interpolations are
settled the same way; anything else (a function argument, ``cfg.name``, a call) stays
unknown, and :func:`binding_name` / :func:`select_names` give None for it.  Nix
evaluates these names exactly so: a let binding is in scope everywhere below it.
"""

from __future__ import annotations

from secretkit.nix import cst
from secretkit.nix.cst import Node, Tree
from secretkit.nix.syntax import follow_let

_DEPTH = 8  # strings built from strings built from … (no real module nests deeper)


def resolver(tree: Tree, depth: int = _DEPTH) -> cst.Resolver:
    """A :data:`cst.Resolver` for ``tree``: the string a let-bound name stands for."""

    def resolve(node: Node) -> str | None:
        if depth <= 0:
            return None
        value = cst.unwrap(follow_let(tree, node))
        if value is None or value.type not in cst.STRING_TYPES:
            return None
        return cst.attr_name(tree, value, resolver(tree, depth - 1))

    return resolve


def binding_name(
    tree: Tree, start: int, text: str, resolve: cst.Resolver | None = None
) -> str | None:
    """The name a computed element ``text`` (as :func:`cst.attr_names` writes it) of the
    binding at byte ``start``, or of a binding around it, stands for; None when a part
    is not a let-bound string (or what ``resolve``, when given, makes of it)."""
    node: Node | None = tree.root.descendant_for_byte_range(start, start)
    resolve = resolve if resolve is not None else resolver(tree)
    while node is not None:
        if node.type == "binding":
            attrpath = node.child_by_field_name("attrpath")
            if attrpath is not None:
                parts = attrpath.named_children
                for part, written in zip(parts, cst.attr_names(tree, attrpath), strict=True):
                    if written == text:
                        return cst.attr_name(tree, part, resolve)
        node = node.parent
    return None


def select_names(tree: Tree, attrpath: Node) -> list[str | None]:
    """The names of a select expression's ``attrpath``, each computed one settled by
    :func:`resolver` (None where it cannot be)."""
    resolve = resolver(tree)
    return [cst.attr_name(tree, part, resolve) for part in attrpath.named_children]
