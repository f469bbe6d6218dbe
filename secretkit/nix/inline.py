"""Inline modules: a ``{ … }`` in a ``modules`` list of ``flake.nix`` (or of a
flake-parts file calling ``nixosSystem``), a colmena node.  Host discovery records
their spans (:meth:`secretkit.nix.hosts.model.Inventory.inline_at`); this finds the
attrset at a span, the function it is the body of, and whether its code reads a
variable (a ``config`` of the code around it, which a function of the NixOS config
would hide)."""

from __future__ import annotations

from secretkit.nix.cst import Node, Tree, node_text


def node_at_span(tree: Tree, start: int, end: int) -> Node | None:
    """The smallest node that spans exactly ``start``..``end``, or None."""
    node = tree.root.descendant_for_byte_range(start, end)
    if node is None or node.start_byte != start or node.end_byte != end:
        return None
    return node


def inline_function(module: Node) -> Node | None:
    """The function whose body (through ``let``, ``with`` and parentheses) the attrset
    ``module`` of an inline module is (``({ pkgs, ... }: { … })``), else None."""
    node = module
    for _ in range(8):
        parent = node.parent
        if parent is None:
            return None
        if parent.type == "parenthesized_expression":
            node = parent
            continue
        if parent.type not in ("function_expression", "let_expression", "with_expression"):
            return None
        body = parent.child_by_field_name("body")
        if body is None or body.id != node.id:
            return None
        if parent.type == "function_expression":
            return parent
        node = parent
    return None


def uses_variable(tree: Tree, node: Node, name: str) -> bool:
    """Whether the code of ``node`` names the variable ``name`` (``name.x``, ``f name``,
    ``inherit name;``), bound there or not."""
    encoded = name.encode()
    if encoded not in tree.source[node.start_byte : node.end_byte]:
        return False
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "variable_expression" or current.type == "inherited_attrs":
            if current.type == "inherited_attrs" and current.parent.type != "inherit":
                continue  # `inherit (src) name;`: an attribute of src, not the variable
            for ident in current.named_children if current.type == "inherited_attrs" else [current]:
                if node_text(tree, ident) == name:
                    return True
            continue
        stack.extend(current.named_children)
    return False
