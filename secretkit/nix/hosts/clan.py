"""clan-core machines, read from the repository without evaluating Nix.

Public API::

    find_clan(root: Path) -> ClanMachines | None
    add_machines(d: Closure) -> bool   # the machines as hosts of a discovery

A clan repository calls ``clan-core.lib.clan { … }`` (older: ``buildClan``) in
``flake.nix`` or in a file ``flake.nix`` imports (``import ./machines/inventory.nix
self``), or sets ``clan = { … }`` in a flake-parts module next to
``clan-core.flakeModules.default``.  Its ``nixosConfigurations`` are then
``clan.config.nixosConfigurations``, which static reading cannot follow; what clan
does with them can be read instead:

* every directory ``<directory>/machines/<name>/`` is a machine, and clan imports its
  ``configuration.nix`` itself;
* ``inventory.machines.<name>`` (in the call, or ``inventory.json``) declares a
  machine, with ``machineClass = "darwin"`` for nix-darwin machines;
* ``machines.<name> = { … }`` in the call is inline module code of that machine.

Only names and paths are read; nothing is evaluated.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secretkit.nix import cst
from secretkit.nix.cst import Node
from secretkit.nix.hosts.closure import Closure
from secretkit.nix.hosts.model import Note
from secretkit.nix.hosts.values import Val

_CLAN_FUNCS = ("lib.clan", "lib.buildClan", "buildClan")
_ATTRSETS = ("attrset_expression", "rec_attrset_expression")
_MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ClanMachine:
    """One machine of a clan, and its configuration file when it has one."""

    name: str
    kind: str  # "nixos" | "darwin"
    entry: Path | None  # machines/<name>/configuration.nix when it exists
    inline: tuple[tuple[Path, int, int], ...] = ()  # machines.<name> = { … } in the call
    declared_in: str = ""  # where the machine was seen: "machines/", "inventory", …
    extra: tuple[Path, ...] = ()  # inventory roles' extraModules that apply to it


@dataclass
class ClanMachines:
    """The machines a clan definition names, and where it names them."""

    definition: Path  # the file with the clan call (or flake.nix)
    directory: Path  # repo-relative base directory of the clan ("." by default)
    machines: dict[str, ClanMachine] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)


def _members(
    tree: cst.NixTree, node: Node, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Node, Node]]:
    """(path, value, binding) of an attrset, nested attrsets flattened:
    ``inventory.machines.a = …`` and ``inventory = { machines = { a = …; }; }`` alike."""
    node = cst.unwrap(node) or node
    if node.type not in _ATTRSETS:
        return
    for child in node.named_children:
        if child.type != "binding_set":
            continue
        for b in child.named_children:
            if b.type != "binding":
                continue
            names = b.child_by_field_name("attrpath")
            value = b.child_by_field_name("expression")
            if names is None or value is None:
                continue
            path = (*prefix, *cst.attr_names(tree, names))
            yield path, value, b
            if (cst.unwrap(value) or value).type in _ATTRSETS:
                yield from _members(tree, value, path)


def _parse(root: Path, rel: Path) -> cst.NixTree | None:
    try:
        path = root / rel
        if not path.is_file() or path.stat().st_size > _MAX_BYTES:
            return None
        return cst.parse(path.read_bytes())
    except OSError:
        return None


def _referenced_files(root: Path, rel: Path, tree: cst.NixTree) -> list[Path]:
    """Repo-relative ``.nix`` files a file names with a path literal (one level)."""
    out: list[Path] = []
    for node in cst.walk(tree.root):
        if node.type != "path_expression":
            continue
        text = cst.node_text(tree, node)
        if "${" in text or not text.startswith("./"):
            continue
        target = (root / rel).parent / text
        if target.is_dir():
            target = target / "default.nix"
        try:
            resolved = target.resolve().relative_to(root.resolve())
        except (ValueError, OSError):
            continue
        if resolved.suffix == ".nix" and (root / resolved).is_file() and resolved not in out:
            out.append(resolved)
    return out


def _clan_args(tree: cst.NixTree, flake_module: bool = False) -> Iterator[Node]:
    """The argument of every ``….lib.clan { … }`` / ``buildClan { … }`` call, and the
    value of a flake-parts ``clan = { … }`` (or ``flake.clan``) binding, in a file that
    names clan's ``flakeModules`` or of a flake that does (``flake_module``)."""
    for node in cst.walk(tree.root):
        if node.type == "apply_expression":
            fn = node.child_by_field_name("function")
            arg = node.child_by_field_name("argument")
            name = cst.dotted_name(tree, fn) if fn is not None else None
            if name is not None and arg is not None and name.endswith(_CLAN_FUNCS):
                yield arg
        elif node.type == "binding":
            names = node.child_by_field_name("attrpath")
            value = node.child_by_field_name("expression")
            if names is None or value is None:
                continue
            is_clan = cst.attr_names(tree, names) in (["clan"], ["flake", "clan"])
            if (
                is_clan
                and (cst.unwrap(value) or value).type in _ATTRSETS
                and (flake_module or b"flakeModules" in tree.source)
            ):
                yield value


def find_clan(root: Path) -> ClanMachines | None:
    """The clan of the flake at ``root``, or None when it is not a clan repository."""
    flake = Path("flake.nix")
    tree = _parse(root, flake)
    if tree is None or b"clan" not in tree.source:
        return None
    candidates = [(flake, tree)]
    for rel in _referenced_files(root, flake, tree):
        sub = _parse(root, rel)
        if sub is not None and b"clan" in sub.source:
            candidates.append((rel, sub))
    flake_module = b"clan-core.flakeModules" in tree.source  # imported by flake.nix
    for rel, file_tree in candidates:
        for arg in _clan_args(file_tree, flake_module):
            return _read_clan(root, rel, file_tree, arg)
    return None


def _read_clan(root: Path, rel: Path, tree: cst.NixTree, arg: Node) -> ClanMachines:
    result = ClanMachines(definition=rel, directory=Path("."))
    declared: dict[str, dict[str, Any]] = {}
    roles: dict[tuple[str, str], dict[str, Any]] = {}  # (instance, role) -> members, modules
    for path, value, binding in _members(tree, arg):
        line = int(binding.start_point[0]) + 1
        if len(path) >= 6 and path[:2] == ("inventory", "instances") and path[3] == "roles":
            role = roles.setdefault((path[2], path[4]), {"machines": set(), "tags": set()})
            if path[5] in ("machines", "tags") and len(path) >= 7:
                role[path[5]].add(path[6])
            elif path[5:] == ("tags",) and (cst.unwrap(value) or value).type not in cst.ATTRSETS:
                # `tags = [ "all" ]`: the list form (`tags.all = { }` is read above)
                listed = cst.unwrap(value) or value
                names = _strings(tree, value)
                if listed.type != "list_expression" or len(names) < len(listed.named_children):
                    why = f"the tags of {path[2]}.{path[4]} are computed in Nix"
                    result.notes.append(Note(rel, line, why))
                role["tags"].update(names)
            elif path[5:] == ("extraModules",):
                role["listed"] = (value, line)  # (read below: strings name the directory's)
        if len(path) == 4 and path[:2] == ("inventory", "machines") and path[3] == "tags":
            declared.setdefault(path[2], {})["tags"] = _strings(tree, value)
        if path == ("directory",):
            text = cst.node_text(tree, cst.unwrap(value) or value)
            if text.startswith("./") or text.startswith("../") or text == "./.":
                target = ((root / rel).parent / text).resolve()
                try:
                    result.directory = target.relative_to(root.resolve())
                except ValueError:
                    result.notes.append(Note(rel, line, "clan directory is outside the repo"))
            elif text not in ("self", "./."):
                reason = "clan directory is computed; machines/ read from the root"
                result.notes.append(Note(rel, line, reason))
        elif len(path) == 3 and path[:2] == ("inventory", "machines"):
            declared.setdefault(path[2], {}).setdefault("seen", "inventory")
        elif len(path) == 4 and path[:2] == ("inventory", "machines") and path[3] == "machineClass":
            cls = cst.string_value(tree, cst.unwrap(value))
            declared.setdefault(path[2], {})["class"] = cls
            declared[path[2]].setdefault("seen", "inventory")
        elif len(path) == 2 and path[0] == "machines":
            info = declared.setdefault(path[1], {})
            info.setdefault("seen", "machines attribute")
            info.setdefault("inline", []).append((rel, binding.start_byte, binding.end_byte))
    for role in roles.values():
        if "listed" in role:
            value, line = role.pop("listed")
            role["modules"] = (_paths(root, rel, tree, value, result.directory), line)
    _inventory_json(root / result.directory / "inventory.json", declared)
    base = root / result.directory / "machines"
    if base.is_dir():
        for entry in sorted(base.iterdir()):
            if entry.is_dir() and not entry.name.startswith("."):
                declared.setdefault(entry.name, {}).setdefault("seen", "machines/")
    _apply_roles(result, rel, roles, declared)
    for name, info in sorted(declared.items()):
        conf = result.directory / "machines" / name / "configuration.nix"
        entry_path = Path(conf.as_posix()) if (root / conf).is_file() else None
        kind = "darwin" if info.get("class") == "darwin" else "nixos"
        result.machines[name] = ClanMachine(
            name=name,
            kind=kind,
            entry=entry_path,
            inline=tuple(info.get("inline", [])),
            declared_in=str(info.get("seen", "")),
            extra=tuple(info.get("extra", [])),
        )
    return result


def _apply_roles(
    result: ClanMachines,
    rel: Path,
    roles: dict[tuple[str, str], dict[str, Any]],
    declared: dict[str, dict[str, Any]],
) -> None:
    """Give each machine the ``extraModules`` of the inventory roles it has: by name,
    by the built-in tags ``all``/``nixos``/``darwin``, or by a literal ``tags`` list;
    a role for any other tag (computed in Nix) is noted, not guessed."""
    for (instance, role), info in sorted(roles.items()):
        modules, line = info.get("modules", ([], 0))
        if not modules:
            continue
        members = set(info["machines"])
        for tag in info["tags"]:
            known = {
                n
                for n, m in declared.items()
                if tag == "all"
                or (tag == "darwin" and m.get("class") == "darwin")
                or (tag == "nixos" and m.get("class") != "darwin")
                or tag in (m.get("tags") or [])
            }
            if tag in ("all", "nixos", "darwin") or known:
                members |= known
            else:
                result.notes.append(
                    Note(
                        rel,
                        line,
                        f"extraModules of {instance}.{role} apply to tag {tag}, "
                        "whose machines are computed in Nix",
                    )
                )
        for name in members:
            declared.setdefault(name, {"seen": "inventory"}).setdefault("extra", []).extend(modules)


def _strings(tree: cst.NixTree, node: Node) -> list[str]:
    node = cst.unwrap(node) or node
    if node.type != "list_expression":
        return []
    return [
        v
        for v in (cst.string_value(tree, cst.unwrap(c)) for c in node.named_children)
        if v is not None
    ]


def _paths(
    root: Path, rel: Path, tree: cst.NixTree, node: Node, directory: Path | None = None
) -> list[Path]:
    """The repo-relative ``.nix`` files of a literal list of paths, and of strings the
    clan reads relative to its ``directory`` (clan's importer: ``"modules/base.nix"``)."""
    node = cst.unwrap(node) or node
    out: list[Path] = []
    for child in node.named_children if node.type == "list_expression" else []:
        text = cst.node_text(tree, child)
        if child.type in cst.STRING_TYPES and directory is not None:
            literal = cst.string_at(tree, child)
            if literal.has_interpolation or literal.value.startswith(("/", "~")):
                continue
            target = root / directory / literal.value
        elif child.type != "path_expression" or "${" in text or text.startswith(("/", "~")):
            continue
        else:
            target = (root / rel).parent / text
        if target.is_dir():
            target = target / "default.nix"
        try:
            found = target.resolve().relative_to(root.resolve())
        except (OSError, ValueError):
            continue
        if (root / found).is_file():
            out.append(Path(found.as_posix()))
    return out


def _inventory_json(path: Path, declared: dict[str, dict[str, Any]]) -> None:
    """Machines of an (older) ``inventory.json``; unreadable or odd JSON is ignored."""
    try:
        if not path.is_file() or path.stat().st_size > _MAX_BYTES:
            return
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return
    machines = data.get("machines") if isinstance(data, dict) else None
    if not isinstance(machines, dict):
        return
    for name, value in machines.items():
        if isinstance(name, str):
            info = declared.setdefault(name, {})
            info.setdefault("seen", "inventory.json")
            if isinstance(value, dict) and value.get("machineClass") == "darwin":
                info["class"] = "darwin"


def add_machines(d: Closure) -> bool:
    """clan-core machines as hosts: each one's ``machines/<name>/configuration.nix``
    and inline ``machines.<name>`` code; False when this is no clan repository."""
    found = find_clan(d.root)
    if found is None:
        return False
    d.definition_files.add(found.definition)
    d.unresolved.extend(found.notes)
    for machine in found.machines.values():
        acc = d.host(machine.name, "clan" if machine.kind == "nixos" else "clan-darwin")
        if machine.entry is not None:
            d.file_module(machine.entry, acc, True)
        for module in machine.extra:  # inventory roles' extraModules
            d.file_module(module, acc, True)
        for rel, start, end in machine.inline:
            file = d.load(rel)
            binding = file.root.descendant_for_byte_range(start, end) if file else None
            value = binding.child_by_field_name("expression") if binding else None
            if file is None or value is None:
                continue
            acc.inline.append((rel, start, end))
            acc.modules.add(rel)
            d.host_module(Val(value, file, {}), acc, True)
        if machine.entry is None and not machine.inline:
            _note_machine(d, found.definition, machine.name, machine.declared_in)
    return True


def _note_machine(d: Closure, rel: Path, name: str, seen: str) -> None:
    where = Note(
        rel,
        None,
        f"machine {name} ({seen}) has no machines/{name}/configuration.nix; "
        "its modules come from the clan inventory only",
    )
    if where not in d.unresolved:
        d.unresolved.append(where)
