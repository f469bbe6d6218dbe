"""colmena hives: the flake's ``colmena``/``colmenaHive`` output
(``colmena.lib.makeHive {…}``) or ``hive.nix``: every attribute but
``meta``/``defaults`` is a host; ``defaults`` applies to all.  ``network`` is colmena's
older name for ``meta``, the one NixOps and morph networks use: a root ``network.nix``
or ``deployment.nix`` holding a ``network`` attribute is such a network, read the same
way.  Nodes may come from a function (``// genAttrs [ … ] (name: { … })``,
:mod:`~secretkit.nix.hosts.generated`)."""

from __future__ import annotations

from pathlib import Path

from secretkit.nix import cst
from secretkit.nix.cst import Node
from secretkit.nix.hosts import generated
from secretkit.nix.hosts.closure import Closure
from secretkit.nix.hosts.files import File
from secretkit.nix.hosts.values import Val, applied

_META = ("meta", "network")  # a hive's settings, no node
# files of a NixOps/morph network at the root (morph takes any name on its command line;
# `morph deploy default.nix` is common)
_NETWORK_FILES = ("network.nix", "deployment.nix", "default.nix")


def hive(d: Closure, v: Val) -> None:
    target = d.deref(v)
    if isinstance(target, Val) and target.node.type == "function_expression":
        body = target.node.child_by_field_name("body")
        if body is not None:
            target = Val(body, target.file, d.shadow(target))
    if isinstance(target, Val) and target.node.type == "apply_expression":
        fn = target.node.child_by_field_name("function")
        arg = target.node.child_by_field_name("argument")
        fname = cst.dotted_name(target.file, fn) if fn is not None else None
        if fname is not None and fname.endswith("makeHive") and arg is not None:
            own = cst.dotted_name(target.file, arg) or ""
            # `self.colmena` or `self.outputs.colmena` (colmena's documented form): the
            # flake's own output of that name
            name = (
                own.removeprefix("self.outputs.")
                if own.startswith("self.outputs.")
                else (own.removeprefix("self.") if own.startswith("self.") else "")
            )
            if name and "." not in name:
                for rest, value, _ in d.members(d.flake_outputs, name):
                    if not rest:
                        hive(d, value)
                return
            target = d.deref(Val(arg, target.file, target.scope))
    if isinstance(target, Val):
        key = (target.file.rel, target.node.start_byte)
        if key in d.hives_done:
            return
        d.hives_done.add(key)
    sets: list[Val] = []
    built: list[tuple[list[str], Val, Node]] = []  # nodes of a generated part
    parts = d.merge_parts(target) if isinstance(target, Val) else []
    for part in parts or [v]:
        if maps_configurations(d, part):
            # `builtins.mapAttrs (n: v: { imports = v._module.args.modules; })
            #  self.nixosConfigurations`: every flake host is a colmena node too, with
            #  its own modules (first: mapAttrs over that set is no node of its own)
            mapped = [acc for acc in d.hosts.values() if "flake" in acc.sources]
            if not mapped:  # no flake's: default.nix's, read next (flake.default_nix)
                d.hive_maps_configurations = True
            for acc in mapped:
                acc.source("colmena")
                acc.mapped_node = True
            continue
        pairs = None if part.node.type in cst.ATTRSETS else generated.gen_attrs(d, part)
        if part.node.type in ("attrset_expression", "rec_attrset_expression"):
            sets.append(part)
        elif pairs is not None:
            # `{ meta = …; } // genAttrs [ "web" "db" ] (name: { imports = …; })`
            d.definition_files.add(part.file.rel)
            built += [([name], value, part.node) for name, value in pairs]
        else:
            d.note(part.file, part.node, f"colmena hive is built from {d.describe(part)}")
            d.host_set_unresolved = True
    if not sets and not built:
        return
    d.definition_files.update(s.file.rel for s in sets)
    defaults: list[Val] = []
    nodes: list[tuple[list[str], Val, Node]] = []
    for aset in sets:
        for names, value, binding in cst.attrset_entries(aset.file, aset.node):
            val = Val(value, aset.file, aset.scope)
            if names is None:
                d.note(aset.file, binding, "colmena node with a computed name")
                continue
            if names[0] in _META:
                continue
            if names[0] == "defaults":
                if len(names) == 1:
                    defaults.append(val)
                else:
                    defaults.append(Val(binding, aset.file, aset.scope))
                continue
            nodes.append((names, val, binding))
    nodes += built
    for names, val, binding in nodes:
        acc = d.host(names[0], "colmena")
        if len(names) == 1:
            d.host_module(_named(d, val, names[0]), acc, True)
        else:
            hive_node_part(d, names, val, binding)
    for name in dict.fromkeys(n[0][0] for n in nodes):
        acc = d.reading = d.hosts[name]
        for default in defaults:
            if default.node.type == "binding":
                node, file = default.node, default.file
                acc.inline.append((file.rel, node.start_byte, node.end_byte))
                acc.modules.add(file.rel)
                value = node.child_by_field_name("expression")
                path = node.child_by_field_name("attrpath")
                names2 = cst.static_attr_names(file, path) if path is not None else None
                if value is not None and names2 is not None:
                    d.binding(names2[1:], Val(value, file, default.scope), acc, True, 0)
            else:
                d.host_module(_named(d, default, name), acc, True)
    d.reading = None


def _named(d: Closure, module: Val, node: str) -> Val:
    """A hive module written as a function (``defaults = { name, ... }: { imports =
    [ ./machines/${name}/configuration.nix ]; }``): colmena calls it with ``name``, the
    node's name, so its body is read with that name known."""
    target = d.deref(module)
    if not isinstance(target, Val) or target.node.type != "function_expression":
        return module
    body = target.node.child_by_field_name("body")
    if body is None:
        return module
    scope = d.shadow(target)
    if "name" in scope:
        scope["name"] = node
    return Val(body, target.file, scope)


def hive_node_part(d: Closure, names: list[str], val: Val, binding: Node) -> None:
    """``node.deployment.x = …`` style bindings: inline module content of ``node``."""
    acc = d.host(names[0], "colmena")
    acc.inline.append((val.file.rel, binding.start_byte, binding.end_byte))
    acc.modules.add(val.file.rel)
    d.binding(names[1:], val, acc, True, 0)


def hive_file(d: Closure) -> None:
    """``hive.nix``, and a NixOps/morph ``network.nix``/``deployment.nix``: an attrset
    with a ``network`` attribute (another file of that name, a NixOS module say, is
    not read as one)."""
    for name in ("hive.nix", *_NETWORK_FILES):
        rel = Path(name)
        if rel in d.definition_files:
            continue
        file = d.load(rel)
        top = cst.expression_root(file) if file is not None else None
        if file is None or top is None:
            continue
        if name in _NETWORK_FILES and not _is_network(file, top):
            continue
        d.definition_files.add(rel)
        hive(d, Val(top, file, {}))


def _is_network(file: File, top: Node) -> bool:
    """Whether ``top`` is an attrset with a ``network`` attribute — also through a
    ``let`` and as one side of ``//`` (``{ network = …; } // genAttrs hosts (…)``)."""
    node: Node | None = cst.unwrap(top) or top
    for _ in range(8):
        if node is None:
            return False
        if node.type == "let_expression":
            node = cst.unwrap(node.child_by_field_name("body"))
            continue
        if node.type == "binary_expression" and _operator(file, node) == "//":
            sides = (node.child_by_field_name("left"), node.child_by_field_name("right"))
            return any(side is not None and _is_network(file, side) for side in sides)
        break
    return (
        node is not None
        and node.type in cst.ATTRSETS
        and any(
            names is not None and names[0] == "network"
            for names, _value, _binding in cst.attrset_entries(file, node)
        )
    )


def _operator(file: File, node: Node) -> str:
    op = node.child_by_field_name("operator")
    return str(cst.node_text(file, op)) if op is not None else ""


def maps_configurations(d: Closure, v: Val) -> bool:
    """``(builtins.)mapAttrs f self.nixosConfigurations``."""
    node = v.node
    if node.type != "apply_expression":
        return False
    fname, args = applied(v)
    argname = cst.dotted_name(v.file, args[-1].node) if args else None
    return (
        fname is not None
        and fname.split(".")[-1] == "mapAttrs"
        and argname in ("self.nixosConfigurations", "nixosConfigurations")
    )
