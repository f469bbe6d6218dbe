"""Where a module's new ``sops.secrets`` and ``sops.templates`` declarations go: in the
module's own block at its top, into the attribute set ``sops = { … };`` or
``sops.secrets = { … };`` already there, or through ``lib.mkMerge`` beside a value
(``sops.secrets = lib.genAttrs [ … ] (…);``: :mod:`secretkit.nix.mkmerge`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from secretkit.nix import cst, emit, mkmerge
from secretkit.nix.cst import Node, Tree
from secretkit.nix.edits import Edit


def declaration_edits(
    tree: Tree,
    top: Node,
    decls: Iterable[emit.SecretDecl],
    templates: Iterable[emit.TemplateDecl],
) -> list[Edit] | str:
    """The edits that write ``decls`` and ``templates`` into the module whose attribute
    set is ``top``, or why they cannot be made."""
    edits: list[Edit] = []
    block: list[str] = [""]
    merged: dict[int, tuple[mkmerge.Blocker, list[str]]] = {}

    def place(option: list[str], lines_of: Callable[[Sequence[str] | None], list[str]]) -> None:
        blocked = mkmerge.blocker(tree, top, option)
        if blocked is not None:  # `sops.secrets = <a value>;`: merged with it, once
            entry = merged.setdefault(blocked.binding.id, (blocked, []))
            entry[1].extend(lines_of(blocked.rest))
            return
        holder, rest = cst.container_of(tree, top, option)
        if holder.id == top.id:
            block.extend(lines_of(None))
        else:  # the module has `sops.secrets = { … };` or `sops = { … };`: declare it there
            edits.append(emit.insert_bindings(tree, holder, lines_of(rest)))

    for decl in decls:
        place(decl.option(), decl.lines)
    for tdecl in templates:
        content = cst.find_option(tree, top, [*tdecl.option(), "content"])
        if content is not None:  # a template of an earlier run: add the new lines to it
            value = cst.unwrap(content.child_by_field_name("expression"))
            edit = None
            if value is not None and value.type == "indented_string_expression":
                edit = emit.append_to_indented_string(tree, value, tdecl.content)
            if edit is None:
                return f"sops.templates.{tdecl.name} exists; add the new lines by hand"
            edits.append(edit)
            continue
        if cst.find_option(tree, top, tdecl.option()) is not None:
            return f"sops.templates.{tdecl.name} exists; add the new lines by hand"
        place(tdecl.option(), tdecl.lines)
    for blocked, lines in merged.values():
        made = mkmerge.merge_option(tree, blocked, lines)
        if isinstance(made, str):
            return made
        edits.extend(made)
    if len(block) > 1:
        edits.append(emit.insert_bindings(tree, top, block))
    return edits
