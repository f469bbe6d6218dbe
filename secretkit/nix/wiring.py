"""Wire sops-nix into a flake once: input, module import for every host, host key path.

:func:`plan_wiring` looks at ``flake.nix`` and the host modules and returns the
span edits that are still missing:

* ``inputs.sops-nix.url = "github:Mic92/sops-nix"`` and
  ``inputs.sops-nix.inputs.nixpkgs.follows = "nixpkgs"``;
* ``sops-nix`` among the ``outputs`` function's arguments;
* ``sops-nix.nixosModules.sops`` in every ``nixosSystem { modules = [ … ]; }``
  list and in colmena's ``defaults.imports``;
* ``sops.age.sshKeyPaths = [ "/etc/ssh/ssh_host_ed25519_key" ];`` in a module
  every host imports (else in each host's entry module).

Each step is skipped when it is already there, so a wired repo gets no edits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from secretkit.nix import cst, emit
from secretkit.nix.cst import Node, Tree
from secretkit.nix.edits import Edit

MODULE = "sops-nix.nixosModules.sops"
INPUT_URL = '"github:Mic92/sops-nix"'
HOST_KEY = '[ "/etc/ssh/ssh_host_ed25519_key" ]'


@dataclass
class Wiring:
    edits: dict[str, list[Edit]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, path: str, edit: Edit | None, note: str) -> None:
        if edit is None:
            return
        self.edits.setdefault(path, []).append(edit)
        if note not in self.notes:
            self.notes.append(note)


def _append_to_list(tree: Tree, lst: Node, item: str) -> Edit:
    elements = lst.named_children
    if not elements:
        close = lst.children[-1]
        return Edit(lst.children[0].end_byte, close.start_byte, f" {item} ")
    last = elements[-1]
    if b"\n" in tree.source[lst.start_byte : lst.end_byte]:
        indent = emit.line_indent(tree.source, last.start_byte)
        if indent:
            return Edit(last.end_byte, last.end_byte, f"\n{indent}{item}")
    return Edit(last.end_byte, last.end_byte, f" {item}")


def _mentions(tree: Tree, node: Node, needle: str) -> bool:
    return needle.encode() in tree.source[node.start_byte : node.end_byte]


def _outputs(tree: Tree, top: Node) -> Node | None:
    binding = cst.find_option(tree, top, ["outputs"])
    if binding is None:
        return None
    value = cst.unwrap(binding.child_by_field_name("expression"))
    return value if value is not None and value.type == "function_expression" else None


def _module_ref(tree: Tree, outputs: Node, wiring: Wiring, path: str) -> str | None:
    formals = outputs.child_by_field_name("formals")
    if formals is None:
        universal = outputs.child_by_field_name("universal")
        if universal is None:
            return None
        return f"{cst.node_text(tree, universal)}.{MODULE}"
    names = [
        cst.node_text(tree, f.child_by_field_name("name"))
        for f in formals.named_children
        if f.type == "formal"
    ]
    if "sops-nix" not in names:
        ellipses = next((c for c in formals.named_children if c.type == "ellipses"), None)
        formal_nodes = [c for c in formals.named_children if c.type == "formal"]
        if ellipses is not None:
            edit = Edit(ellipses.start_byte, ellipses.start_byte, "sops-nix, ")
        elif formal_nodes:
            edit = Edit(formal_nodes[-1].end_byte, formal_nodes[-1].end_byte, ", sops-nix")
        else:
            edit = Edit(formals.start_byte + 1, formals.end_byte - 1, " sops-nix ")
        wiring.add(path, edit, "flake.nix: sops-nix added to the outputs arguments")
    return MODULE


def _hive_attrset(tree: Tree, body: Node) -> Node | None:
    for name in ("colmenaHive", "colmena"):
        binding = cst.find_option(tree, body, [name])
        if binding is None:
            continue
        value = cst.unwrap(binding.child_by_field_name("expression"))
        if value is not None and value.type == "apply_expression":
            value = cst.unwrap(value.child_by_field_name("argument"))
        if value is not None and value.type in cst.ATTRSETS:
            return value
    return None


def _defaults_body(tree: Tree, hive: Node) -> tuple[Node | None, Node | None]:
    """(the defaults binding, the attrset it returns)."""
    binding = cst.find_option(tree, hive, ["defaults"])
    if binding is None:
        return None, None
    value = cst.unwrap(binding.child_by_field_name("expression"))
    while value is not None and value.type == "function_expression":
        value = cst.unwrap(value.child_by_field_name("body"))
    if value is not None and value.type in cst.ATTRSETS:
        return binding, value
    return binding, None


def wire_flake(tree: Tree, path: str = "flake.nix") -> Wiring:
    """The edits ``flake.nix`` still needs (input, argument, module imports)."""
    wiring = Wiring()
    top = cst.module_body(tree)
    if top is None:
        wiring.notes.append(f"{path}: not an attrset; wire sops-nix by hand")
        return wiring
    if cst.find_option(tree, top, ["inputs", "sops-nix", "url"]) is None:
        wiring.add(
            path,
            emit.ensure_option(tree, top, ["inputs", "sops-nix", "url"], INPUT_URL).edit,
            "flake.nix: input sops-nix (github:Mic92/sops-nix)",
        )
        if cst.find_option(tree, top, ["inputs", "nixpkgs", "url"]) is not None:
            wiring.add(
                path,
                emit.ensure_option(
                    tree, top, ["inputs", "sops-nix", "inputs", "nixpkgs", "follows"], '"nixpkgs"'
                ).edit,
                "flake.nix: input sops-nix (github:Mic92/sops-nix)",
            )
    outputs = _outputs(tree, top)
    if outputs is None:
        wiring.notes.append(f"{path}: no outputs function; import {MODULE} by hand")
        return wiring
    ref = _module_ref(tree, outputs, wiring, path)
    if ref is None:
        wiring.notes.append(f"{path}: cannot name the sops-nix input; import {MODULE} by hand")
        return wiring
    for node in cst.walk(outputs):
        if node.type != "apply_expression":
            continue
        function = node.child_by_field_name("function")
        if function is None or not cst.node_text(tree, function).endswith("nixosSystem"):
            continue
        argument = cst.unwrap(node.child_by_field_name("argument"))
        if argument is None or argument.type not in cst.ATTRSETS:
            continue
        modules = cst.find_option(tree, argument, ["modules"])
        lst = cst.unwrap(modules.child_by_field_name("expression")) if modules else None
        if lst is None or lst.type != "list_expression":
            wiring.notes.append(f"{path}: a nixosSystem call has no modules list; add {ref}")
            continue
        if not _mentions(tree, lst, "sops-nix"):
            wiring.add(
                path, _append_to_list(tree, lst, ref), f"flake.nix: {ref} in every nixosSystem"
            )
    body = cst.unwrap(outputs.child_by_field_name("body"))
    while body is not None and body.type in ("let_expression", "with_expression"):
        body = cst.unwrap(body.child_by_field_name("body"))
    hive = _hive_attrset(tree, body) if body is not None and body.type in cst.ATTRSETS else None
    if hive is not None:
        binding, defaults = _defaults_body(tree, hive)
        note = f"flake.nix: {ref} in colmena defaults.imports"
        if binding is None:
            wiring.add(
                path, emit.insert_bindings(tree, hive, [f"defaults.imports = [ {ref} ];"]), note
            )
        elif defaults is None:
            wiring.notes.append(f"{path}: colmena defaults is not an attrset; add {ref} by hand")
        elif not _mentions(tree, defaults, "sops-nix"):
            imports = cst.find_option(tree, defaults, ["imports"])
            lst = cst.unwrap(imports.child_by_field_name("expression")) if imports else None
            if imports is None:
                wiring.add(
                    path, emit.insert_bindings(tree, defaults, [f"imports = [ {ref} ];"]), note
                )
            elif lst is not None and lst.type == "list_expression":
                wiring.add(path, _append_to_list(tree, lst, ref), note)
            else:
                wiring.notes.append(f"{path}: colmena defaults.imports is not a list; add {ref}")
    return wiring


def key_source_configured(sources: Mapping[str, bytes]) -> bool:
    """Some module already tells sops-nix which key to use."""
    needles = (
        b"sops.age.",
        b"age.sshKeyPaths",
        b"age.keyFile",
        b"sops.gnupg",
        b"gnupg.sshKeyPaths",
    )
    return any(n in data for data in sources.values() for n in needles)


# the names people give the module every host imports: preferred over, say, cachix.nix
_SHARED_STEMS = frozenset({"common", "base", "shared", "default", "configuration", "core"})
_HIVE_NAMES = frozenset({"meta", "defaults", "nixosConfigurations", "colmena", "deploy"})


def _module_attrset(tree: Tree, hosts: set[str]) -> Node | None:
    """The attrset options go into, or None when ``tree`` is not a module attrset (or is
    a file that declares hosts)."""
    top = cst.module_body(tree)
    top = cst.config_body(tree, top) if top is not None else None
    if top is None or _defines_hosts(tree, hosts):
        return None
    return top


def _defines_hosts(tree: Tree, hosts: set[str]) -> bool:
    """A file whose top attrset binds hosts (a colmena ``hive.nix``: ``meta``, ``defaults``,
    one attribute per node) is where hosts are declared, not a NixOS module: an option set
    there would be read as one more node."""
    top = cst.module_body(tree)
    if top is None or top.type not in cst.ATTRSETS:
        return False
    names = {
        names[0] for binding in cst.bindings_of(top) if (names := cst.binding_names(tree, binding))
    }
    return bool(names & (hosts | _HIVE_NAMES))


def wire_host_key(
    sources: Mapping[str, bytes],
    host_modules: Mapping[str, Sequence[str]],
    entry_modules: Mapping[str, Sequence[str]],
    parse: Callable[[bytes], Tree],
) -> Wiring:
    """``sops.age.sshKeyPaths`` in a module shared by every host (or in each host)."""
    wiring = Wiring()
    if key_source_configured(sources) or not host_modules:
        return wiring
    common = set.intersection(*(set(m) for m in host_modules.values()))
    common = {p for p in common if p.endswith(".nix") and p != "flake.nix" and p in sources}
    ordered = sorted(common, key=lambda p: (Path(p).stem not in _SHARED_STEMS, p.count("/"), p))
    line = f"sops.age.sshKeyPaths = {HOST_KEY};"
    for target in ordered:  # the shallowest shared module that is a module attrset
        tree = parse(sources[target])
        top = _module_attrset(tree, set(host_modules))
        if top is not None:
            state = emit.ensure_option(tree, top, ["sops", "age", "sshKeyPaths"], HOST_KEY)
            wiring.add(target, state.edit, f"{target}: sops.age.sshKeyPaths = {HOST_KEY}")
            return wiring
    for target in sorted({e[0] for e in entry_modules.values() if e and e[0] in sources}):
        tree = parse(sources[target])
        top = _module_attrset(tree, set(host_modules))
        if top is None:
            wiring.notes.append(f"{target}: not a module attrset; set {line} by hand")
            continue
        state = emit.ensure_option(tree, top, ["sops", "age", "sshKeyPaths"], HOST_KEY)
        wiring.add(target, state.edit, f"{target}: sops.age.sshKeyPaths = {HOST_KEY}")
    return wiring


def plan_wiring(
    sources: Mapping[str, bytes],
    host_modules: Mapping[str, Sequence[str]],
    entry_modules: Mapping[str, Sequence[str]],
    parse: Callable[[bytes], Tree],
) -> Wiring:
    """Everything still missing for sops-nix, as edits per file."""
    result = Wiring()
    if "flake.nix" in sources:
        flake = wire_flake(parse(sources["flake.nix"]))
        result.edits.update(flake.edits)
        result.notes.extend(flake.notes)
    elif not any(b"sops-nix" in data for data in sources.values()):
        result.notes.append("no flake.nix: import sops-nix's NixOS module in every host by hand")
    keys = wire_host_key(sources, host_modules, entry_modules, parse)
    for path, edits in keys.edits.items():
        result.edits.setdefault(path, []).extend(edits)
    result.notes.extend(keys.notes)
    return result
