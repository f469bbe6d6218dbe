"""What host discovery reads an expression as: the expression, its file and the names
it can see (:class:`Val`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from secretkit.nix import cst
from secretkit.nix.cst import Node
from secretkit.nix.hosts.files import File


@dataclass(frozen=True)
class Val:
    """An expression together with the file it is in and the names it can see."""

    node: Node
    file: File
    scope: Mapping[str, Val | str | None]
    # an attrset seen through a prefix: only its bindings ``prefix.<rest>`` count, as
    # ``<rest>`` (flake-parts' ``mkFlake {…} { flake.nixosConfigurations = …; }``)
    prefix: tuple[str, ...] = ()


def call_parts(v: Val) -> tuple[Node, list[Val]] | None:
    """The function ``v`` applies (through parentheses) and its arguments in order:
    ``(lib.genAttrs, [names, f])``; an expression that is no call is its own function
    with no arguments.  None for a call tree-sitter could not read whole.  The one
    walk down a call's ``apply_expression`` chain."""
    node, args = v.node, []
    while node.type == "parenthesized_expression" and node.named_children:
        node = node.named_children[0]
    while node.type == "apply_expression":
        argument = node.child_by_field_name("argument")
        function = node.child_by_field_name("function")
        if argument is None or function is None:
            return None
        args.append(Val(argument, v.file, v.scope))
        node = function
    return node, list(reversed(args))


def applied(v: Val) -> tuple[str | None, list[Val]]:
    """The dotted name of the function ``v`` applies (through parentheses) and its
    arguments in order: ``("lib.genAttrs", [names, f])``; ``(None, [])`` for a call
    tree-sitter could not read whole."""
    parts = call_parts(v)
    if parts is None:
        return None, []
    return cst.dotted_name(v.file, parts[0]), parts[1]
