"""Hosts of ``flake.nix``: ``nixosConfigurations.<h> = <…>.nixosSystem { modules = […]; }``
(also darwin and home-manager configurations) in the outputs, inside ``let``, ``//``
merges, flake-parts' ``flake = {…}``, let-bound helpers like ``mkHost "h"``, sets built
by functions (:mod:`~secretkit.nix.hosts.generated`), haumea loads, deploy-rs nodes,
the colmena outputs (:mod:`~secretkit.nix.hosts.colmena`) and clan-core
(:mod:`~secretkit.nix.hosts.clan`)."""

from __future__ import annotations

from pathlib import Path

from secretkit.nix import cst
from secretkit.nix.cst import Node
from secretkit.nix.hosts import clan, colmena, generated, haumea, snowfall
from secretkit.nix.hosts.closure import Closure
from secretkit.nix.hosts.values import Val

_NIXOS = "nixosConfigurations"
# flake output -> (Host.source, names of the builder function that takes `modules`)
_OUTPUTS = {
    _NIXOS: ("flake", ("nixosSystem",)),
    "darwinConfigurations": ("darwin", ("darwinSystem",)),
    "homeConfigurations": ("home-manager", ("homeManagerConfiguration",)),
}
_HOST_SET = "host-set"  # a note's kind: a host set built from something not followed


def flake(d: Closure) -> None:
    rel = Path("flake.nix")
    file = d.load(rel)
    if file is None:
        return
    d.definition_files.add(rel)
    top = cst.expression_root(file)
    if top is None:
        return
    root_sets = d.attrsets(Val(top, file, {}))
    for rest, outputs, _ in d.members(root_sets, "outputs"):
        if rest:
            continue
        target = d.deref(outputs)
        if not isinstance(target, Val) or target.node.type != "function_expression":
            d.note(file, outputs.node, "flake outputs is not a function")
            continue
        body = target.node.child_by_field_name("body")
        if body is None:
            continue
        sets = d.attrsets(Val(body, file, d.shadow(target)))
        d.flake_outputs = sets
        for output in _OUTPUTS:
            configurations(d, sets, output)
        deploy_nodes(d, sets)
        for output in ("colmena", "colmenaHive"):
            for rest2, hive, binding in d.members(sets, output):
                if rest2:
                    colmena.hive_node_part(d, rest2, hive, binding)
                else:
                    colmena.hive(d, hive)
        # (home-manager profiles are no systems: they stand for none of clan's or
        # snowfall's, whose systems the flake's own outputs may name beside them)
        systems = any(
            any(source != "home-manager" for source in acc.sources) for acc in d.hosts.values()
        )
        if not systems and snowfall.add_systems(d):
            d.unresolved = [n for n in d.unresolved if not (n.file == rel and n.kind == _HOST_SET)]
            d.host_set_unresolved = False
        elif clan.add_machines(d):
            # `nixosConfigurations = clan.config.nixosConfigurations`: clan's machines
            # stand for it, so that is not something left unresolved; beside systems
            # of the flake's own clan merges its machines into the same output
            d.unresolved = [
                n
                for n in d.unresolved
                if not (n.file == rel and n.kind == _HOST_SET and "clan" in n.subject)
            ]
            d.host_set_unresolved = False
        elif not d.hosts and not d.host_set_unresolved:
            d.note(file, outputs.node, "no nixosConfigurations or colmena hive found in outputs")
            d.host_set_unresolved = True


def default_nix(d: Closure) -> None:
    """A repository without flake.nix whose ``default.nix`` is an attrset of outputs
    (``nixosConfigurations.<h> = import <nixpkgs/nixos/lib/eval-config.nix> { modules =
    [ … ]; }``), read when nothing before found a host (a hive.nix may map them)."""
    rel = Path("default.nix")
    if d.hosts or d.host_set_unresolved or (d.root / "flake.nix").is_file():
        return
    file = d.load(rel)
    top = cst.expression_root(file) if file is not None else None
    if file is None or top is None:
        return
    sets = d.attrsets(Val(top, file, {}))
    if not any(True for _ in d.members(sets, _NIXOS)):
        return
    d.definition_files.add(rel)
    configurations(d, sets, _NIXOS)
    # (no flake: the repository's own default.nix, the nodes of a hive that maps them)
    kind = "colmena" if d.hive_maps_configurations else "default.nix"
    for acc in d.hosts.values():
        if "flake" in acc.sources:
            acc.sources[acc.sources.index("flake")] = kind
            acc.mapped_node = acc.mapped_node or d.hive_maps_configurations


def system(d: Closure, name: str, v: Val, binding: Node, output: str = _NIXOS) -> None:
    """``nixosConfigurations.<name> = <…>`` (or darwin/home-manager configurations)."""
    try:
        _system(d, name, v, binding, output)
    finally:
        d.reading = None  # what is noted next is not about this host


def _system(d: Closure, name: str, v: Val, binding: Node, output: str) -> None:
    kind, builder = _OUTPUTS[output]
    acc = d.host(name, kind)
    target = d.deref(v)
    if isinstance(target, Val) and target.node.type == "apply_expression":
        fn = target.node.child_by_field_name("function")
        arg = target.node.child_by_field_name("argument")
        fname = _builder_name(d, Val(fn, target.file, target.scope)) if fn is not None else None
        if fname is not None and fname.split(".")[-1] in builder and arg is not None:
            for rest, modules, _ in d.members(
                d.attrsets(Val(arg, target.file, target.scope)), "modules"
            ):
                if not rest:
                    site = (modules.file.rel, modules.node.start_byte, modules.node.end_byte)
                    if site not in acc.sites:
                        acc.sites.append(site)
                    d.host_module(modules, acc, True, "modules")
                    return
            d.note(target.file, target.node, f"{fname} call for {name} has no modules")
            acc.resolved = False  # (its modules were not read: none is known)
            return
    shown = target if isinstance(target, Val) else v
    d.note(v.file, binding, f"host {name} is defined by {d.describe(shown)}")
    acc.resolved = False


def _builder_name(d: Closure, fn: Val) -> str | None:
    """The name of the function a host's system is built with: ``nixpkgs.lib.nixosSystem``,
    or what a let-bound function returns (``(mkSystem name) { … }`` with ``mkSystem =
    name: inputs."nixpkgs${…}".lib.nixosSystem``: its last name)."""
    name = cst.dotted_name(fn.file, fn.node)
    if name is not None and not ("." not in name and isinstance(fn.scope.get(name), Val)):
        return name
    if _eval_config(fn):
        return "nixosSystem"  # (what nixosSystem itself calls, with the same `modules`)
    target = d.deref(fn)  # (a let-bound name: `systemFunc = if darwin then … else …`)
    if not isinstance(target, Val) or target.node.type != "select_expression":
        return None
    path = target.node.child_by_field_name("attrpath")
    if path is None or target.node.child_by_field_name("default") is not None:
        return None
    last = path.named_children[-1] if path.named_children else None
    return target.file.text(last) if last is not None and last.type == "identifier" else None


def _eval_config(fn: Val) -> bool:
    """``import <nixpkgs/nixos/lib/eval-config.nix>`` (or of ``"${nixpkgs}/nixos/lib/…"``):
    a NixOS system built without a flake."""
    node = fn.node
    while node.type == "parenthesized_expression" and node.named_children:
        node = node.named_children[0]
    callee = node.child_by_field_name("function") if node.type == "apply_expression" else None
    arg = node.child_by_field_name("argument") if callee is not None else None
    if callee is None or arg is None or fn.file.text(callee) != "import":
        return False
    return fn.file.text(arg).rstrip(">\"')").endswith("nixos/lib/eval-config.nix")


def configurations(d: Closure, sets: list[Val], output: str = _NIXOS) -> None:
    for rest, value, binding in d.members(sets, output):
        if len(rest) == 1:
            system(d, rest[0], value, binding, output)
        elif not rest:
            # each operand of `genAttrs names mkHost // { extra = …; }` on its own: a
            # generated part next to a literal set must not be dropped without a note
            for part in d.merge_parts(value):
                host_set(d, part, binding, output)


def host_set(d: Closure, value: Val, binding: Node, output: str) -> None:
    """One operand of ``nixosConfigurations = …``: a haumea load, a set built by a
    function, or literal sets; anything else is noted as unresolved."""
    if loaded_hosts(d, value, binding, output):
        return
    inner = d.attrsets(value)
    built = generated.gen_attrs(d, value) if not inner else None
    for host_name, host_value in built or []:
        system(d, host_name, host_value, binding, output)
    if not inner and built is None:
        target = d.deref(value)
        shown = target if isinstance(target, Val) else value
        what = d.describe(shown)
        d.note(value.file, binding, f"{output} is built from {what}", _HOST_SET, what)
        d.host_set_unresolved = True
    for aset in inner:
        for names, hv, b in cst.attrset_entries(aset.file, aset.node):
            if names and len(names) == 1:
                system(d, names[0], Val(hv, aset.file, aset.scope), b, output)
            elif names is None:
                # `mkHost = name: { ${name} = nixosSystem …; }`: the name the call gives
                computed = _computed_name(d, aset, b)
                if computed is not None:
                    system(d, computed, Val(hv, aset.file, aset.scope), b, output)
                    continue
                d.note(aset.file, b, "host with a computed name")
                d.host_set_unresolved = True


def _computed_name(d: Closure, aset: Val, binding: Node) -> str | None:
    """The name of ``${x} = …;`` (or ``"${x}" = …;``) when ``x`` is a string the
    scope binds (a helper's argument), else None."""
    path = binding.child_by_field_name("attrpath")
    parts = path.named_children if path is not None else []
    if len(parts) != 1:
        return None
    inner = parts[0]
    if inner.type == "string_expression" and len(inner.named_children) == 1:
        inner = inner.named_children[0]
    if inner.type != "interpolation" or not inner.named_children:
        return None
    name = d.string_value(Val(inner.named_children[0], aset.file, aset.scope))
    return name if name and "/" not in name and not name.startswith(".") else None


def deploy_nodes(d: Closure, sets: list[Val]) -> None:
    """deploy-rs ``deploy.nodes.<n>``: deploys ``nixosConfigurations.<n>``."""
    names: dict[str, Val] = {}
    for rest, value, _ in d.members(sets, "deploy"):
        if len(rest) >= 2 and rest[0] == "nodes":
            names.setdefault(rest[1], value)
        elif rest == ["nodes"]:
            for aset in d.attrsets(value):
                for n, v2, _ in cst.attrset_entries(aset.file, aset.node):
                    if n:
                        names.setdefault(n[0], Val(v2, aset.file, aset.scope))
        elif not rest:
            for aset in d.attrsets(value):
                for n, v2, _ in cst.attrset_entries(aset.file, aset.node):
                    if n and n[0] == "nodes" and len(n) >= 2:
                        names.setdefault(n[1], Val(v2, aset.file, aset.scope))
    for name, value in names.items():
        if name in d.hosts:
            d.hosts[name].source("deploy-rs")
        else:
            d.note(value.file, value.node, f"deploy-rs node {name} has no configuration")


def loaded_hosts(d: Closure, value: Val, binding: Node, output: str) -> bool:
    """``nixosConfigurations = haumea.lib.load { src = ./hosts; … }``: each entry's
    file returns the host's system (haumea calls it with its inputs)."""
    found = haumea.haumea_dir(d, value)
    if found is None:
        return False
    rel_dir, listed = found
    if listed is None:
        d.note(value.file, binding, f"{output} loads {rel_dir.as_posix()}, which cannot be read")
        d.host_set_unresolved = True
        return True
    for entry in listed:
        file = d.load(entry.definition) if entry.definition is not None else None
        top = cst.expression_root(file) if file is not None else None
        if file is None or top is None:
            d.note(
                value.file,
                binding,
                f"host {entry.name}: {rel_dir.as_posix()}/{entry.name}/ has no default.nix",
            )
            d.host(entry.name, _OUTPUTS[output][0]).resolved = False
            continue
        if top.type == "function_expression":  # { inputs, ... }: nixosSystem { … }
            body = top.child_by_field_name("body")
            top = body if body is not None else top
        system(d, entry.name, Val(top, file, {}), binding, output)
    return True
