"""Wire sops-nix into a flake once: input, module import for every host, host key path.

:func:`plan_wiring` returns the span edits still missing in ``flake.nix`` and the hosts:

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

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.errors import UserError
from secretkit.nix import cst, emit
from secretkit.nix.cst import Node, Tree
from secretkit.nix.edits import Edit
from secretkit.nix.hosts.flake_lock import sops_nix_absent
from secretkit.nix.input_names import BARE_NAME, module_name, names_the_input
from secretkit.nix.sops_nix_pins import INPUT_URL, input_url

if TYPE_CHECKING:
    from secretkit.nix.hosts.model import Host, Inventory

MODULE = "sops-nix.nixosModules.sops"
# a nix-darwin system's (sops-nix 048d81b2, flake.nix: darwinModules.sops =
# ./modules/nix-darwin); the NixOS one does not evaluate there
DARWIN_MODULE = "sops-nix.darwinModules.sops"
HOST_KEY = '[ "/etc/ssh/ssh_host_ed25519_key" ]'
# sops-nix's module without flakes
NO_FLAKE_MODULE = (
    '"${builtins.fetchTarball "https://github.com/Mic92/sops-nix/archive/master.tar.gz"}'
    '/modules/sops"'
)
# said after it (a stranger followed it and got an unpinned fetch, with no word of it)
NO_FLAKE_PIN = (
    " (it follows master, unpinned: to pin it write a commit for master and "
    "fetchTarball { url = …; sha256 = …; } with what `nix-prefetch-url --unpack URL` "
    "prints, or name a niv/npins source)"
)


@dataclass
class Wiring:
    edits: dict[str, list[Edit]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # hosts that lack sops-nix's module and did not get it: a sops option written for
    # them would not evaluate ("The option `sops' does not exist")
    unwired: set[str] = field(default_factory=set)

    def unwired_error(self, receiving: Collection[str]) -> UserError | None:
        """Why a plan moving secrets to ``receiving`` hosts cannot be written: some lack
        sops-nix's module and could not be given it here."""
        unwired = sorted(set(receiving) & self.unwired)
        if not unwired:
            return None
        # (said here: without --dry-run this error is all migrate prints)
        where = "; ".join(n for n in self.notes if n.startswith(("cannot wire", "cannot tell")))
        return UserError(
            f"sops-nix's NixOS module is not imported by {', '.join(unwired)}, and migrate "
            f"cannot add it there: {where or 'secretkit migrate --dry-run shows the plan'}",
            hint="add it by hand, then run secretkit migrate again",
        )

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


def _inputs(tree: Tree, top: Node, wiring: Wiring, path: str, release: str | None = None) -> None:
    """``inputs.sops-nix`` (following the flake's nixpkgs, pinned to a commit tested
    with ``release``: :func:`input_url`), unless it is there."""
    if cst.find_option(tree, top, ["inputs", "sops-nix", "url"]) is not None:
        return
    url = input_url(release)
    pinned = (
        f", pinned for NixOS {release}: later sops-nix needs newer nixpkgs"
        if url != INPUT_URL
        else ""
    )
    note = f"flake.nix: input sops-nix ({url.strip(chr(34))}{pinned})"
    wiring.add(path, emit.ensure_option(tree, top, ["inputs", "sops-nix", "url"], url).edit, note)
    if cst.find_option(tree, top, ["inputs", "nixpkgs", "url"]) is not None:
        follows = ["inputs", "sops-nix", "inputs", "nixpkgs", "follows"]
        wiring.add(path, emit.ensure_option(tree, top, follows, '"nixpkgs"').edit, note)


def _site_edits(tree: Tree, node: Node, ref: str) -> list[Edit]:
    """``ref`` added to a ``modules = …`` value: into a list literal, else as ``++ [ ref ]``."""
    if node.type == "list_expression":
        return [_append_to_list(tree, node, ref)]
    if node.type in cst.ATTRSETS:  # (snowfall's mkFlake arguments without the list yet)
        return [emit.insert_bindings(tree, node, [f"systems.modules.nixos = [ {ref} ];"])]
    tail = f" ++ [ {ref} ]"
    op = node.child_by_field_name("operator") if node.type == "binary_expression" else None
    if node.type in _OPERANDS or (op is not None and cst.node_text(tree, op) == "++"):
        return [Edit(node.end_byte, node.end_byte, tail)]
    return [
        Edit(node.start_byte, node.start_byte, "("),
        Edit(node.end_byte, node.end_byte, ")" + tail),
    ]


# values `++ [ … ]` can follow without parentheses
_OPERANDS = frozenset(
    {"variable_expression", "select_expression", "apply_expression", "parenthesized_expression"}
)


def _node_at(tree: Tree, start: int, end: int) -> Node | None:
    node = tree.root.named_descendant_for_byte_range(start, end)
    while node is not None and node.parent is not None:
        parent = node.parent
        if parent.start_byte != start or parent.end_byte != end or parent.type == "binding":
            break
        node = parent
    if node is None or node.start_byte != start or node.end_byte != end:
        return None
    return node


def _modules_values(tree: Tree) -> list[Node]:
    """Every ``modules = …`` binding's value in the file, in source order."""
    return [
        value
        for node in cst.walk(tree.root)
        if node.type == "binding" and cst.binding_names(tree, node) == ["modules"]
        for value in [node.child_by_field_name("expression")]
        if value is not None
    ]


def _site_node(tree: Tree, read: Tree | None, start: int, end: int) -> Node | None:
    """The ``modules`` value discovery found at ``start:end`` of the file it read, in
    ``tree``: the same span, or — when the file was edited since (an agenix import
    removing its module) — the ``modules`` binding with the same rank in the file."""
    if read is None:
        return _node_at(tree, start, end)
    ranks = [(v.start_byte, v.end_byte) for v in _modules_values(read)]
    now = _modules_values(tree)
    if (start, end) not in ranks or len(now) != len(ranks):
        return None
    return now[ranks.index((start, end))]


def parameters(tree: Tree, node: Node) -> set[str]:
    """The names the functions around ``node`` take (formals and ``@name``)."""
    names: set[str] = set()
    current = node.parent
    while current is not None:
        if current.type == "function_expression":
            universal = current.child_by_field_name("universal")
            if universal is not None:
                names.add(cst.node_text(tree, universal))
            formals = current.child_by_field_name("formals")
            for formal in formals.named_children if formals is not None else []:
                name = formal.child_by_field_name("name") if formal.type == "formal" else None
                if name is not None:
                    names.add(cst.node_text(tree, name))
        current = current.parent
    return names


def _line(tree: Tree, node: Node) -> int:
    return int(node.start_point[0]) + 1


@dataclass
class _Flake:
    """flake.nix while it is wired: its tree, outputs, and the reference to the module."""

    tree: Tree | None
    outputs: Node | None
    wiring: Wiring
    _ref: str | None = None
    _named: bool = False
    no_flake: str = ""  # how the module is named without a flake (no_flake_module)

    def ref(self) -> str | None:
        """How flake.nix's outputs name sops-nix's module (adding the argument once)."""
        if not self._named and self.outputs is not None and self.tree is not None:
            self._named = True
            self._ref = _module_ref(self.tree, self.outputs, self.wiring, "flake.nix")
        return self._ref

    def passes_all_inputs(self) -> bool:
        """The outputs function has a name for all its inputs (``inputs:``, ``…@inputs``):
        a file given that value can reach the new input as ``inputs.sops-nix``."""
        return (
            self.outputs is not None and self.outputs.child_by_field_name("universal") is not None
        )


def _hosts_wanting(hosts: Mapping[str, Host], absent: bool) -> tuple[list[Host], list[Host]]:
    """(NixOS hosts without sops-nix's module, hosts where that cannot be told; none
    when sops-nix is ``absent`` from the repository and its flake inputs)."""
    missing: list[Host] = []
    unknown: list[Host] = []
    for host in hosts.values():
        if not set(host.source.split("+")) & _NIXOS_SOURCES:
            continue  # darwin, home-manager, clan (which brings sops-nix): not wired here
        state = host.imports_sops_nix()
        if state is False:
            missing.append(host)
        elif state is None:
            (missing if absent else unknown).append(host)
    return missing, unknown


_NIXOS_SOURCES = frozenset({"flake", "colmena", "deploy-rs", "hosts-dir", "configuration.nix"})


def wire_modules(
    sources: Mapping[str, bytes],
    hosts: Mapping[str, Host],
    parse: Callable[[bytes], Tree],
    read: Mapping[str, bytes] | None = None,
    absent: bool = False,
    release: str | None = None,
    no_flake: str = "",
) -> Wiring:
    """sops-nix's NixOS module for every host whose modules lack it, where its builder's
    ``modules`` are (flake.nix or the file that calls ``nixosSystem``) and in colmena's
    ``defaults``; the flake input and outputs argument the edits need.  What cannot be
    done is a note saying where to add it by hand.  ``read``: the files as host
    discovery read them, when ``sources`` are edited versions of them."""
    wiring = Wiring()
    missing, unknown = _hosts_wanting(hosts, absent)
    tree = parse(sources["flake.nix"]) if "flake.nix" in sources else None
    top = cst.module_body(tree) if tree is not None else None
    flake = _Flake(
        tree, _outputs(tree, top) if tree is not None and top is not None else None, wiring
    )
    flake.no_flake = no_flake or NO_FLAKE_MODULE + NO_FLAKE_PIN
    if unknown:
        seen = unknown[0].unseen()
        where = f" (such as {seen[0]})" if seen else ""
        wiring.notes.append(
            f"cannot tell whether {', '.join(h.name for h in unknown)} import sops-nix's "
            f"NixOS module: it is not among the modules secretkit can read, but may come "
            f"through one it cannot{where}; if it does not, add "
            f"{MODULE if tree is not None else flake.no_flake} to their modules"
        )
    sites: dict[tuple[str, int, int], list[str]] = {}
    by_hand: list[str] = []
    hive_hosts: list[str] = []
    for host in missing:
        for file, start, end in host.module_sites:
            sites.setdefault((file.as_posix(), start, end), []).append(host.name)
        if "colmena" in host.source.split("+") and not host.mapped_node:
            hive_hosts.append(host.name)
        elif not host.module_sites:
            by_hand.append(host.name)
    used_input = False
    for (rel, start, end), names in sites.items():
        data = sources.get(rel)
        site_tree = tree if rel == "flake.nix" else parse(data) if data is not None else None
        before = read.get(rel) if read is not None else None
        changed = before is not None and before != data
        read_tree = parse(before) if changed and before is not None else None
        node = _site_node(site_tree, read_tree, start, end) if site_tree is not None else None
        if site_tree is None or node is None:
            by_hand += names
            continue
        if _mentions(site_tree, node, "sops-nix"):
            continue
        params = parameters(site_tree, node)
        ref = flake.ref() if rel == "flake.nix" else module_name(params, MODULE)
        if ref == f"inputs.{MODULE}" and not flake.passes_all_inputs():
            ref = None
        if ref is None:
            wiring.notes.append(
                f"cannot wire sops-nix for {', '.join(names)}: {rel}:{_line(site_tree, node)} "
                f"cannot name the sops-nix input; pass it to {rel} (as an argument sops-nix) "
                f"and add {MODULE} to this modules list by hand"
            )
            wiring.unwired.update(names)
            continue
        used_input = True
        for edit in _site_edits(site_tree, node, ref):
            wiring.add(rel, edit, f"{rel}: {ref} in the modules of {', '.join(names)}")
    if hive_hosts:
        wired = _wire_hive(flake, hive_hosts)
        used_input |= wired
        if not wired:
            wiring.unwired.update(hive_hosts)
    if by_hand:
        named_as = MODULE if tree is not None else flake.no_flake
        wiring.notes.append(
            f"cannot wire sops-nix for {', '.join(sorted(by_hand))}: add sops-nix's NixOS "
            f"module ({named_as}) to their modules by hand"
        )
        wiring.unwired.update(by_hand)
    # flake.nix naming the module already (an agenix import put it in place of agenix's)
    named = tree is not None and BARE_NAME.search(tree.source) is not None
    if named:
        flake.ref()  # the outputs argument the name needs
    # … or any file naming the flake's input (`inputs.sops-nix.…`, `{ sops-nix, ... }@inputs`)
    named = named or any(names_the_input(data) for data in sources.values())
    if (used_input or named) and tree is not None and top is not None:
        _inputs(tree, top, wiring, "flake.nix", release)
    return wiring


def _wire_hive(flake: _Flake, names: list[str]) -> bool:
    """sops-nix's module in colmena's ``defaults`` (flake.nix); whether an edit was made."""
    tree, outputs, wiring, path = flake.tree, flake.outputs, flake.wiring, "flake.nix"
    body = cst.unwrap(outputs.child_by_field_name("body")) if outputs is not None else None
    while body is not None and body.type in ("let_expression", "with_expression"):
        body = cst.unwrap(body.child_by_field_name("body"))
    hive = (
        _hive_attrset(tree, body)
        if tree is not None and body is not None and body.type in cst.ATTRSETS
        else None
    )
    ref = flake.ref() if hive is not None else None
    # without a flake there is no input to name: the module's own path (a hive.nix of
    # niv or npins sources may name a pinned copy instead)
    named_as = MODULE if tree is not None else flake.no_flake
    by_hand = (
        f"cannot wire sops-nix for {', '.join(sorted(names))}: add {named_as} to colmena's "
        "defaults.imports by hand"
    )
    if tree is None or hive is None or ref is None:
        wiring.notes.append(by_hand)
        return False
    binding, defaults = _defaults_body(tree, hive)
    note = f"flake.nix: {ref} in colmena defaults.imports"
    if binding is None:
        wiring.add(path, emit.insert_bindings(tree, hive, [f"defaults.imports = [ {ref} ];"]), note)
        return True
    if defaults is None:  # `defaults = import ./base.nix;`: keep it, as one of two imports
        value = binding.child_by_field_name("expression")
        if value is None:
            wiring.notes.append(by_hand)
            return False
        wiring.add(path, Edit(value.start_byte, value.start_byte, "{ imports = [ ("), note)
        wiring.add(path, Edit(value.end_byte, value.end_byte, f") {ref} ]; }}"), note)
        return True
    imports = cst.find_option(tree, defaults, ["imports"])
    lst = cst.unwrap(imports.child_by_field_name("expression")) if imports else None
    if imports is None:
        wiring.add(path, emit.insert_bindings(tree, defaults, [f"imports = [ {ref} ];"]), note)
    elif lst is not None:
        for edit in _site_edits(tree, lst, ref):
            wiring.add(path, edit, note)
    else:
        wiring.notes.append(by_hand)
        return False
    return True


# the names people give the module every host imports: preferred over, say, cachix.nix
_SHARED_STEMS = frozenset({"common", "base", "shared", "default", "configuration", "core"})
_HIVE_NAMES = frozenset({"meta", "defaults", "nixosConfigurations", "colmena", "deploy"})


def _module_attrset(tree: Tree, hosts: set[str], always: bool = False) -> Node | None:
    """The attrset options go into, or None when ``tree`` is not a module attrset (or is
    a file that declares hosts); ``always``: nor one whose ``config`` is ``mkIf …`` (an
    option module's: what is set there counts only while it is enabled)."""
    body = cst.module_body(tree)
    top = cst.config_body(tree, body) if body is not None else None
    if top is None or _defines_hosts(tree, hosts):
        return None
    parent = top.parent if always and body is not None and top.id != body.id else None
    return None if parent is not None and parent.type == "apply_expression" else top


def _defines_hosts(tree: Tree, hosts: set[str]) -> bool:
    """A file whose top attrset binds hosts (a colmena ``hive.nix``: ``meta``, ``defaults``,
    one attribute per node) is where hosts are declared, not a NixOS module: an option set
    there would be read as one more node.  A module's ``networking.hostName = …`` is not
    a node named ``networking``: a node is one name bound to a module (a function or an
    attrset)."""
    top = cst.module_body(tree)
    if top is None or top.type not in cst.ATTRSETS:
        return False
    for binding in cst.bindings_of(top):
        names = cst.binding_names(tree, binding)
        if not names or names[0] not in hosts | _HIVE_NAMES:
            continue
        if names[0] in _HIVE_NAMES:
            return True
        value = cst.unwrap(binding.child_by_field_name("expression"))
        if len(names) == 1 and value is not None and value.type in _NODE_VALUES:
            return True
    return False


_NODE_VALUES = frozenset({"function_expression", *cst.ATTRSETS})


def wire_host_key(
    sources: Mapping[str, bytes],
    host_modules: Mapping[str, Sequence[str]],
    entry_modules: Mapping[str, Sequence[str]],
    parse: Callable[[bytes], Tree],
    definitions: Collection[str] = (),
    host_files: Mapping[str, Sequence[str]] | None = None,
) -> Wiring:
    """``sops.age.sshKeyPaths`` in a module shared by every host (or in each host);
    never in a file that declares hosts (``definitions``: flake.nix, hive.nix), nor in
    one left out of ``host_files`` (each host's modules that can take it: not a file
    that builds hosts, such as a flake-parts file calling ``nixosSystem``)."""
    from secretkit.nix.host_key_paths import (
        UNREAD,
        host_key_per_host,
        key_paths,
        key_source_configured,
        sets_host_keys,
        unread_note,
    )

    wiring = Wiring()
    if key_source_configured(sources) or not host_modules:
        return wiring
    whole = host_files if host_files is not None else host_modules
    every = sorted({m for modules in host_modules.values() for m in modules})
    if sets_host_keys(sources, every, parse):
        return wiring  # sops-nix's default: the ed25519 keys sshd is told to keep
    # where each host's key is at activation (impermanence, agenix's identityPaths)
    keys = {host: key_paths(sources, modules, parse) for host, modules in host_modules.items()}
    wiring.notes += [unread_note(host) for host, key in sorted(keys.items()) if key == UNREAD]
    keys = {host: key for host, key in keys.items() if key != UNREAD}
    if not keys:
        return wiring
    if len(set(keys.values())) > 1:  # (hosts that differ: each its own module's line)
        host_key_per_host(
            wiring, sources, entry_modules, parse, definitions, whole, keys, _module_attrset
        )
        return wiring
    keyed = next(iter(keys.values()))
    common = set.intersection(*(set(m) for m in whole.values()))
    common = {
        p
        for p in common
        if p.endswith(".nix") and p != "flake.nix" and p not in definitions and p in sources
    }
    ordered = sorted(common, key=lambda p: (Path(p).stem not in _SHARED_STEMS, p.count("/"), p))
    for target in ordered:  # the shallowest shared module that is a module attrset
        tree = parse(sources[target])
        top = _module_attrset(tree, set(host_modules), always=True)
        if top is not None:
            state = emit.ensure_option(tree, top, ["sops", "age", "sshKeyPaths"], keyed)
            wiring.add(target, state.edit, f"{target}: sops.age.sshKeyPaths = {keyed}")
            return wiring
    host_key_per_host(
        wiring, sources, entry_modules, parse, definitions, whole, keys, _module_attrset
    )
    return wiring


def plan_wiring(
    sources: Mapping[str, bytes],
    inventory: Inventory,
    parse: Callable[[bytes], Tree],
    read: Mapping[str, bytes] | None = None,
    release: str | None = None,
) -> Wiring:
    """Everything still missing for sops-nix, as edits per file (``sources``: the
    repository's Nix files by repo-relative path, as they are to be edited; ``read``:
    as host discovery read them, when they differ; ``release``: the NixOS release the
    repository pins, which the sops-nix input is pinned for)."""
    # the host key goes where NixOS hosts alone read it: a file a nix-darwin system or
    # home-manager also imports would set an option those lack (sops-nix's module is
    # wired into NixOS hosts only: `The option sops does not exist` there)
    nixos = {n: h for n, h in inventory.hosts.items() if set(h.source.split("+")) & _NIXOS_SOURCES}
    elsewhere = {m for n, h in inventory.hosts.items() if n not in nixos for m in h.modules}
    elsewhere |= {m for h in nixos.values() for m in h.home_modules}
    host_modules = {n: [m.as_posix() for m in h.modules] for n, h in nixos.items()}
    entries = {n: [m.as_posix() for m in h.entry_modules] for n, h in nixos.items()}
    definitions = {p.as_posix() for p in inventory.definition_files}
    absent = sops_nix_absent(inventory.root, sources.values())
    from secretkit.nix.no_flake_module import module_text

    no_flake = module_text(inventory.root, release)
    result = wire_modules(sources, inventory.hosts, parse, read, absent, release, no_flake)
    # Not where a host is built (a flake-parts file calling nixosSystem holds its inline
    # modules, yet is no NixOS module), nor a file read only for its value
    # (`import ./lib/colors lib`)
    sites = inventory.site_files()
    files = {
        n: [
            m.as_posix()
            for m in h.modules
            if m not in sites and m not in h.values and m not in elsewhere
        ]
        for n, h in nixos.items()
    }
    keys = wire_host_key(sources, host_modules, entries, parse, definitions, files)
    for path, edits in keys.edits.items():
        result.edits.setdefault(path, []).extend(edits)
    result.notes.extend(keys.notes)
    return result
