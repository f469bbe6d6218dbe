"""What a module reads of the NixOS ``config``: the option a select expression names,
``config.my.backup.enable`` or, through a name a ``let`` binds to part of it
(``cfg = config.my.backup;``), ``cfg.enable``.  Read without evaluating: anything
else (a function's argument, ``config.x or y``, a computed name) is not told."""

from __future__ import annotations

from secretkit.nix import cst
from secretkit.nix.syntax import follow_let


def config_option(tree: cst.Tree, node: cst.Node, depth: int = 8) -> tuple[str, ...] | None:
    """The option path ``node`` reads: ``config.a.b``, or ``cfg.b`` where a ``let``
    binds ``cfg`` to ``config.a`` (or to ``other.a`` of another such name, or ``pw``
    bound to ``cfg.b`` itself); else None."""
    rest: list[str] | None = []
    if node.type == "variable_expression":
        head = node
    elif node.type == "select_expression":
        head = cst.unwrap(node.child_by_field_name("expression"))
        names = node.child_by_field_name("attrpath")
        if head is None or names is None or node.child_by_field_name("default"):
            return None
        rest = cst.static_attr_names(tree, names)
        if rest is None:
            return None
    else:
        return None
    base = cst.dotted_name(tree, head)
    if base is None:
        return None
    if base != "config" and not base.startswith("config."):
        if head.type != "variable_expression" or depth <= 0:
            return None
        bound = cst.unwrap(follow_let(tree, head))
        if bound is None or bound.id == head.id:
            return None
        inner = config_option(tree, bound, depth - 1)  # (through names bound to names)
        return (*inner, *(rest or [])) if inner is not None else None
    path = [*base.split(".")[1:], *(rest or [])]
    return tuple(path) if path else None
