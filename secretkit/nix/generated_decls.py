"""Names a computed ``sops.secrets = …;`` declares when they can be read without
evaluating Nix: ``lib.genAttrs [ "a" "b" ] (_: { sopsFile = ./x.yaml; })`` (a literal list
of plain strings, a function whose body is an attribute set of plain fields, its
argument used as ``key = name;`` at most), and the parts of ``lib.mkMerge [ … ]`` that are
attribute sets written out (read as bindings) or such calls.  Anything else is computed:
its names are not known (:attr:`secretkit.nix.sops_refs.NixFacts.dynamic`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from secretkit.nix import cst
from secretkit.nix.cst import Node, Tree
from secretkit.nix.syntax import MKMERGE, mkif_body

_GENATTRS = frozenset({"genAttrs", "lib.genAttrs", "lib.attrsets.genAttrs"})
_FIELDS = frozenset({"sopsFile", "key", "format", "neededForUsers", "owner", "group", "mode"})


@dataclass
class Generated:
    """The names a ``genAttrs`` call declares and the fields each gets (value nodes; a
    ``key`` of None: the name itself)."""

    node: Node
    names: list[str]
    fields: dict[str, Node | None] = field(default_factory=dict)


def computed_parts(tree: Tree, value: Node) -> list[Node]:
    """The parts of a ``sops.secrets`` value whose names its bindings do not show: the
    value itself, or the elements of its ``mkMerge [ … ]`` that are not attribute sets
    written out (through ``mkIf``)."""
    node = cst.unwrap(value)
    items = [node]
    if node is not None and node.type == "apply_expression":
        head = node.child_by_field_name("function")
        listed = cst.unwrap(node.child_by_field_name("argument"))
        if (
            head is not None
            and cst.node_text(tree, head) in MKMERGE
            and listed is not None
            and listed.type == "list_expression"
        ):
            items = [cst.unwrap(e) for e in listed.named_children if e.type != "comment"]
    out = []
    for item in items:
        body = cst.unwrap(mkif_body(tree, item)) if item is not None else None
        if body is None or body.type not in cst.ATTRSETS:
            out.append(item)
    return out


def generated(tree: Tree, node: Node | None) -> Generated | None:
    """The names and fields of ``genAttrs [ "a" … ] (n: { … })``; None for anything else."""
    if node is None or node.type != "apply_expression":
        return None
    call = node.child_by_field_name("function")
    maker = cst.unwrap(node.child_by_field_name("argument"))
    if call is None or call.type != "apply_expression":
        return None
    head = call.child_by_field_name("function")
    listed = cst.unwrap(call.child_by_field_name("argument"))
    if head is None or cst.node_text(tree, head) not in _GENATTRS:
        return None
    if listed is None or listed.type != "list_expression":
        return None
    names = []
    for element in listed.named_children:
        if element.type == "comment":
            continue
        name = cst.string_value(tree, element)
        if name is None:
            return None
        names.append(name)
    if maker is None or maker.type != "function_expression":
        return None
    param = maker.child_by_field_name("universal")
    if param is None:
        return None
    argument = cst.node_text(tree, param)
    body = cst.unwrap(maker.child_by_field_name("body"))
    if body is None or body.type not in cst.ATTRSETS:
        return None
    made = Generated(node, names)
    for binding in cst.bindings_of(body):
        parts = cst.binding_names(tree, binding)
        value = cst.unwrap(binding.child_by_field_name("expression"))
        if parts is None or len(parts) != 1 or parts[0] not in _FIELDS or value is None:
            return None
        uses = _uses(tree, value, argument)
        if uses and not (parts[0] == "key" and value.type == "variable_expression"):
            return None  # (a field made from the name: not known here)
        made.fields[parts[0]] = None if uses else value
    if any(
        c.type in ("inherit", "inherit_from") for s in body.named_children for c in s.named_children
    ):
        return None
    return made


def _uses(tree: Tree, node: Node, name: str) -> bool:
    return any(
        n.type == "variable_expression" and cst.node_text(tree, n) == name for n in cst.walk(node)
    )
