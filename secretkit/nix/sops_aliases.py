"""Names that stand for a part of ``config.sops`` in a Nix file, so that ``s.x.path``
is ``config.sops.secrets.x.path``: ``let s = config.sops.secrets;``,
``inherit (config.sops) secrets;`` (:func:`aliases`), and the names a
``with config.sops.secrets;`` brings in scope (:func:`withs`, :func:`from_with`: a name
no ``let``, function or ``rec`` set around it binds, which win over ``with`` in Nix).
:mod:`secretkit.nix.sops_refs` reads references through them."""

from __future__ import annotations

import re

from secretkit.nix import cst

_ALIASED = {
    "config.sops": ["sops"],
    "config.sops.secrets": ["sops", "secrets"],
    "config.sops.templates": ["sops", "templates"],
}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*")


def aliases(tree: cst.NixTree) -> dict[str, list[str]]:
    """Names bound to a part of ``config.sops``, with that part's names."""
    out: dict[str, list[str]] = {}
    for binding in cst.bindings(tree):
        value = cst.unwrap(binding.value)
        if len(binding.attrpath) == 1 and value is not None and value.type == "select_expression":
            part = _ALIASED.get(_squeezed(tree, value))
            if part is not None:
                out[binding.attrpath[0]] = part
    for node in (n for n in cst.walk(tree.root) if n.type == "inherit_from"):
        source = next((c for c in node.named_children if c.type != "inherited_attrs"), None)
        part = _ALIASED.get(_squeezed(tree, source)) if source is not None else None
        if part is None:
            continue
        for name in _inherited(node):
            out[str(cst.node_text(tree, name))] = [*part, str(cst.node_text(tree, name))]
    return out


def withs(tree: cst.NixTree) -> list[tuple[cst.Node, list[str]]]:
    """Each ``with config.sops.secrets;`` (or ``.templates``) and that part's names."""
    out = []
    for node in (n for n in cst.walk(tree.root) if n.type == "with_expression"):
        environment = node.child_by_field_name("environment")
        part = _ALIASED.get(_squeezed(tree, environment)) if environment is not None else None
        if part is not None and len(part) == 2:
            out.append((node, part))
    return out


def from_with(
    tree: cst.NixTree,
    node: cst.Node,
    name: str,
    after: list[str | None],
    scopes: list[tuple[cst.Node, list[str]]],
) -> list[str] | None:
    """For ``name.path`` (``after``: the names after ``name``) inside one of ``scopes``
    (:func:`withs`), the names it stands for (``sops``, ``secrets``, ``name``); None
    where a scope around it binds ``name`` itself."""
    held = [(w, part) for w, part in scopes if w.start_byte <= node.start_byte < w.end_byte]
    if not held or not _IDENT.fullmatch(name) or after != ["path"]:
        return None
    scope = node.parent
    while scope is not None:
        if name in _bound_by(tree, scope):
            return None
        scope = scope.parent
    innermost = min(held, key=lambda wp: wp[0].end_byte - wp[0].start_byte)
    return [*innermost[1], name]


def _bound_by(tree: cst.NixTree, scope: cst.Node) -> set[str]:
    """The names ``scope`` binds for what is inside it: a function's argument or
    formals, a ``let``'s or a ``rec { }``'s bindings and inherits."""
    names: set[str] = set()
    if scope.type == "function_expression":
        universal = scope.child_by_field_name("universal")
        if universal is not None:
            names.add(_text(tree, universal))
        formals = scope.child_by_field_name("formals")
        for formal in formals.named_children if formals is not None else []:
            names.update(_text(tree, c) for c in formal.named_children[:1])
    elif scope.type in ("let_expression", "rec_attrset_expression"):
        for part in (c for c in scope.named_children if c.type == "binding_set"):
            for item in part.named_children:
                path = item.child_by_field_name("attrpath") if item.type == "binding" else None
                if path is not None and path.named_children:
                    names.add(_text(tree, path.named_children[0]))
                elif item.type in ("inherit", "inherit_from"):
                    names.update(_text(tree, attr) for attr in _inherited(item))
    return names


def _inherited(node: cst.Node) -> list[cst.Node]:
    attrs = next((c for c in node.named_children if c.type == "inherited_attrs"), None)
    return list(attrs.named_children) if attrs is not None else []


def _text(tree: cst.NixTree, node: cst.Node) -> str:
    return str(cst.node_text(tree, node))


def _squeezed(tree: cst.NixTree, node: cst.Node | None) -> str:
    return "".join(str(cst.node_text(tree, node)).split()) if node is not None else ""
