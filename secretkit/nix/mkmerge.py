"""Setting an option below a binding whose value is an expression.

``serviceConfig = hardening;`` takes no ``serviceConfig.EnvironmentFile = …;`` beside
it: Nix refuses to parse an attribute given twice (:mod:`secretkit.nix.duplicates`).
The module system's way to add a definition there is ``lib.mkMerge``::

    serviceConfig = lib.mkMerge [
      hardening
      { EnvironmentFile = [ … ]; }
    ];

mkMerge is taken apart by the module system at every level of a module's config, option
or not (``pushDownProperties`` in lib/modules.nix, NixOS/nixpkgs), so the new definition
merges with the expression's as two modules' would (lists concatenate).  ``lib`` is the
module's own argument: used when the module function names it and nothing between
rebinds it, added to its formals when it does not; otherwise the way is said, not taken.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from secretkit.nix import cst
from secretkit.nix.cst import Node, Tree
from secretkit.nix.edits import Edit

_MKMERGE = frozenset({"lib.mkMerge", "mkMerge", "lib.modules.mkMerge"})
# values that can be a module's definition (an attribute set, or what gives one)
_DEFINITIONS = frozenset({
    "variable_expression", "select_expression", "apply_expression", "binary_expression",
    "let_expression", "if_expression", "with_expression",
})  # fmt: skip
# values a list element needs no parentheses around
_ATOMS = frozenset({"variable_expression", "select_expression", "parenthesized_expression"})


@dataclass(frozen=True)
class Blocker:
    """The binding on the way to an option whose value is an expression, and the names
    of the option below it."""

    binding: Node
    rest: tuple[str, ...]


def blocker(tree: Tree, top: Node, path: Sequence[str]) -> Blocker | None:
    """The binding below ``top`` that gives a prefix of ``path`` something other than an
    attribute set literal (``serviceConfig = hardening;``), or None."""
    for full, binding in cst.iter_bindings(tree, top):
        if len(full) < len(path) and list(path[: len(full)]) == full:
            value = cst.unwrap(binding.child_by_field_name("expression"))
            if value is not None and value.type not in cst.ATTRSETS:
                return Blocker(binding, tuple(path[len(full) :]))
    return None


def existing(tree: Tree, block: Blocker) -> str | None:
    """The source of the value an element of the binding's ``lib.mkMerge [ … ]`` gives
    the option (an earlier run's), or None."""
    listed = _merged_list(tree, block.binding)
    for element in listed.named_children if listed is not None else ():
        element = cst.unwrap(element)
        if element is not None and element.type in cst.ATTRSETS:
            found = cst.find_option(tree, element, block.rest)
            value = found.child_by_field_name("expression") if found is not None else None
            if value is not None:
                return cst.node_text(tree, value)
    return None


def merge_option(tree: Tree, block: Blocker, lines: Sequence[str]) -> list[Edit] | str:
    """The edits that add ``lines`` (whole bindings of the names below the binding:
    ``EnvironmentFile = [ … ];``) through ``lib.mkMerge`` (an element added to one that
    is there already), or why they cannot be made (with the way to do it)."""
    binding = block.binding
    path = binding.child_by_field_name("attrpath")
    name = cst.node_text(tree, path) if path is not None else "it"
    value = binding.child_by_field_name("expression")
    inner = cst.unwrap(value)
    shown = lines[0] if len(lines) == 1 else "…"
    by_hand = (
        f"{name} is set to an expression, so {'.'.join(block.rest)} cannot be set beside "
        f"it: write `{name} = lib.mkMerge [ <its value> {{ {shown} }} ];` by hand"
    )
    listed = _merged_list(tree, binding)
    if listed is not None:  # `lib.mkMerge [ … ]` already: one element more
        return [_append(tree, listed, lines)]
    if inner is None or inner.type not in _DEFINITIONS:
        return by_hand
    lib = _lib_formal(tree, binding)
    if isinstance(lib, str):
        return f"{by_hand} ({lib})"
    text = cst.node_text(tree, value)
    if inner.type not in _ATOMS:
        text = f"({text})"
    indent = _indent(tree.source, binding.start_byte)
    element = _element(lines, indent + "  ")
    merged = f"lib.mkMerge [\n{indent}  {text}\n{element}\n{indent}]"
    return [Edit(value.start_byte, value.end_byte, merged), *lib]


def _element(lines: Sequence[str], indent: str) -> str:
    """``{ lines }`` at ``indent``: on one line for one line, else one line each."""
    if len(lines) == 1:
        return f"{indent}{{ {lines[0]} }}"
    body = "".join(f"{indent}  {line}\n" if line else "\n" for line in lines)
    return f"{indent}{{\n{body}{indent}}}"


def _merged_list(tree: Tree, binding: Node) -> Node | None:
    value = cst.unwrap(binding.child_by_field_name("expression"))
    if value is None or value.type != "apply_expression":
        return None
    function = value.child_by_field_name("function")
    argument = cst.unwrap(value.child_by_field_name("argument"))
    if function is None or cst.node_text(tree, function) not in _MKMERGE:
        return None
    return argument if argument is not None and argument.type == "list_expression" else None


def _append(tree: Tree, listed: Node, lines: Sequence[str]) -> Edit:
    close = listed.end_byte - 1  # the `]`
    source = tree.source
    line_start = source.rfind(b"\n", listed.start_byte, close) + 1
    if line_start > listed.start_byte and not source[line_start:close].strip(b" \t"):
        items = listed.named_children
        indent = _indent(source, items[-1].start_byte) if items else ""
        return Edit(line_start, line_start, _element(lines, indent) + "\n")
    return Edit(close, close, _element(lines, _indent(source, listed.start_byte)).lstrip() + " ")


def _lib_formal(tree: Tree, binding: Node) -> list[Edit] | str:
    """No edit when the module function's ``lib`` reaches ``binding``; the edit that adds
    it to the formals when they lack it; else why not."""
    function = cst.module_function(tree)
    formals = function.child_by_field_name("formals") if function is not None else None
    if function is None or formals is None or not _inside(binding, function):
        return "the module is not a function of a formals set ({ lib, ... }:)"
    node = binding.parent
    while node is not None and node.id != function.id:
        if _binds_lib(tree, node):
            return "lib is bound to something else around it"
        node = node.parent
    given = [f for f in formals.named_children if f.type == "formal"]
    if any(cst.node_text(tree, f.child_by_field_name("name")) == "lib" for f in given):
        return []
    rest = [c for c in formals.named_children if c.type == "ellipses"]
    if rest:
        return [Edit(rest[0].start_byte, rest[0].start_byte, "lib, ")]
    if given:
        return [Edit(given[-1].end_byte, given[-1].end_byte, ", lib")]
    return "the module function takes no arguments"


def _binds_lib(tree: Tree, node: Node) -> bool:
    if node.type in (*cst.ATTRSETS, "let_expression") and node.type != "attrset_expression":
        for child in node.named_children:
            if child.type == "binding_set":
                for item in child.named_children:
                    path = item.child_by_field_name("attrpath")
                    if path is not None and cst.attr_names(tree, path)[:1] == ["lib"]:
                        return True
                    attrs = item.child_by_field_name("attrs")
                    if attrs is not None and "lib" in cst.attr_names(tree, attrs):
                        return True
    if node.type == "function_expression":
        universal = node.child_by_field_name("universal")
        formals = node.child_by_field_name("formals")
        names: list[str] = [cst.node_text(tree, universal)] if universal is not None else []
        for f in formals.named_children if formals is not None else ():
            name = f.child_by_field_name("name")
            if name is not None:
                names.append(cst.node_text(tree, name))
        return "lib" in names
    return False


def _inside(node: Node, outer: Node) -> bool:
    return bool(outer.start_byte <= node.start_byte and node.end_byte <= outer.end_byte)


def _indent(source: bytes, offset: int) -> str:
    start = source.rfind(b"\n", 0, offset) + 1
    line = source[start:offset]
    return line[: len(line) - len(line.lstrip(b" \t"))].decode()
