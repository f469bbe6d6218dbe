"""``nix-secret-refs``: a reference to a sops secret in an inline module whose ``config``
is not the NixOS config.

``config.sops.secrets."x".path`` in ``{ … }`` of a ``modules`` list (flake.nix, a
flake-parts file calling ``nixosSystem``, a colmena node) means the NixOS config only
when that module is a function binding ``config`` itself (or, inside a host's own module,
when that module's ``config`` reaches it).  Otherwise ``config`` is a name bound around
it (a flake-parts module's own, a ``let``) or none: the host does not evaluate, though
the name is declared and the file holds the key (the rest of the point says "all
resolve").  Found by a stranger following a fix in a flake-parts repository."""

from __future__ import annotations

from typing import TYPE_CHECKING

from secretkit.gate.model import CheckResult

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext


def outer_config_refs(ctx: CheckContext) -> list[CheckResult]:
    from secretkit.nix import cst, emit
    from secretkit.nix.inline import node_at_span
    from secretkit.plan.advice import inline_finder, own_module_finder

    facts = ctx.nix()
    inventory = ctx.inventory()
    spans = inventory.inline_spans()
    at = [(name, file, offset, line) for name, file, offset, line in facts.references]
    at = [item for item in at if item[1] in spans]
    if not at:
        return []
    inline_at = inline_finder(inventory)
    own = own_module_finder(inventory, ctx.read)
    trees: dict[str, cst.Tree | None] = {}
    results = []
    for name, file, offset, line in at:
        unit = inline_at(file, offset)
        if unit is None:
            continue
        if file not in trees:
            data = ctx.read(file)
            trees[file] = cst.parse(data) if data is not None else None
        tree = trees[file]
        node = node_at_span(tree, *unit[0]) if tree is not None else None
        if tree is None or node is None or node.type not in cst.ATTRSETS:
            continue
        if emit.ensure_inline_config_arg(tree, node, in_module=unit[2]) != emit.OUTER_CONFIG:
            continue
        hosts = sorted(unit[1])
        target = own(hosts) if hosts else None
        there = (
            f"into {target[0]} (a module of {', '.join(hosts)} only, with config among its "
            "arguments)"
            if target is not None
            else "into a module of the same hosts that is a function of the NixOS config"
        )
        results.append(
            CheckResult(
                "nix-secret-refs",
                False,
                f'{file}:{line}: config.sops.secrets."{name}" is in an inline module whose '
                "config is not the NixOS config (a config bound around it, or none): the host "
                "does not evaluate",
                f"move the definition that uses it {there}",
                (file,),
            )
        )
    return results
