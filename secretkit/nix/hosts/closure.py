"""The module closure of each host: which files and inline modules it uses.

From a host's entry modules the static references are followed:
``imports``/``sharedModules`` lists, ``home-manager.users.<u>``, ``import ./x.nix`` and
``callPackage ./x.nix`` anywhere, ``./dir`` → ``dir/default.nix``, ``"${./x}"``, ``++`` of
lists and let-bound lists, ``import-tree ./dir``, ``self.nixosModules.<n>``.  Anything
else is noted with a line number (:class:`~secretkit.nix.hosts.model.Note`).  Files are
scanned from a work list, once each, so an import chain of any length is fine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secretkit.lazy_re import lazy
from secretkit.nix import cst
from secretkit.nix.cst import Node
from secretkit.nix.hosts.dir_modules import dir_modules
from secretkit.nix.hosts.evaluator import ENTRY, MAX_DEPTH, MAX_LEVEL
from secretkit.nix.hosts.files import File
from secretkit.nix.hosts.flake_parts import FlakeParts
from secretkit.nix.hosts.model import Note
from secretkit.nix.hosts.values import Val, applied, call_parts

_IMPORT_FUNCS = ("import", "builtins.import", "callPackage", "pkgs.callPackage")
# "${builtins.fetchTarball "…/sops-nix/archive/….tar.gz"}/modules/sops",
# "${sources.sops-nix}/modules/sops" (niv, npins): a source of sops-nix, its NixOS module
_SOPS_NIX_PATH = lazy(r'(?s)^"\$\{.*sops-nix.*\}/modules/sops/?"$')
SOPS_NIX_SOURCE = "<sops-nix/modules/sops>"  # (the name host.imports_sops_nix knows)
_MODULE_LISTS = ("imports", "sharedModules")


@dataclass
class HostAcc:
    """What is known of one host while discovering it."""

    name: str
    sources: list[str] = field(default_factory=list)
    entry: list[Path] = field(default_factory=list)
    modules: set[Path] = field(default_factory=set)
    inline: list[tuple[Path, int, int]] = field(default_factory=list)
    resolved: bool = True
    record: list[Path] | None = None  # set while a file is scanned once for its references
    record_home: set[Path] = field(default_factory=set)  # of those, the home-manager ones
    files: set[Path] = field(default_factory=set)  # modules imported as whole files
    # whole files reached as home-manager modules (home-manager.users.<u>, sharedModules)
    # and as NixOS modules: a file only in the first is a home-manager module of the host
    home: set[Path] = field(default_factory=set)
    system: set[Path] = field(default_factory=set)
    external: set[str] = field(default_factory=set)  # modules from outside the repository
    inert: set[str] = field(default_factory=set)  # of those, ones that cannot bring sops-nix
    gaps: list[Note] = field(default_factory=list)  # notes made while reading its modules
    host_names: set[tuple[str, int, str]] = field(default_factory=set)  # (Host.host_names)
    named: bool = False  # (Host.named)
    sites: list[tuple[Path, int, int]] = field(default_factory=list)  # `modules = …` values
    # files reached as modules, and files read for their value (`creds = import ./c.nix`,
    # `callPackage ./p.nix`) with the files that import them: one only read for its value
    # is no module (no `config`, no `sops.secrets` can go in it)
    as_module: set[Path] = field(default_factory=set)
    as_value: dict[Path, set[Path]] = field(default_factory=dict)
    # files reached so far only as values, or through values only: what they could not
    # follow is no gap in the host's modules (an overlay's `import nixpkgs-unstable {…}`)
    value_only: set[Path] = field(default_factory=set)
    # a colmena node made by mapAttrs over nixosConfigurations: its modules are the
    # nixosSystem's (nothing to wire in the hive)
    mapped_node: bool = False

    def source(self, kind: str) -> None:
        if kind not in self.sources:
            self.sources.append(kind)


class Closure(FlakeParts):
    """The evaluator (flake-parts included) plus what discovery collects: hosts and the
    modules they use."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.hosts: dict[str, HostAcc] = {}
        self.host_set_unresolved = False
        # a hive mapped nixosConfigurations no flake defines (`import ./.`): default.nix's
        self.hive_maps_configurations = False
        self.definition_files: set[Path] = set()
        self.queue: list[tuple[Path, HostAcc, bool, bool]] = []  # (…, home, value only)
        self.refs: dict[Path, tuple[list[Path], list[tuple[Path, int, int]], HostAcc]] = {}
        self.reading: HostAcc | None = None  # the host whose modules are being read
        self.draining = False
        self.hives_done: set[tuple[Path, int]] = set()
        self._own: dict[tuple[str, ...], Path] | None = None
        self._inputs: frozenset[str] | None = None
        self._lock: Any = None  # flake.lock, read when an external module is met
        self.in_home = False  # reading a home-manager module of the host
        self.entry_files: dict[str, tuple[Path, ...]] = {}  # a haumea entry's own files
        self.value_from: Path | None = None  # the file whose `import` is read as a value

    def host(self, name: str, kind: str) -> HostAcc:
        """The host ``name``; what is noted from now on is noted for it too."""
        acc = self.hosts.setdefault(name, HostAcc(name))
        acc.source(kind)
        self.reading = acc
        return acc

    def host_module(self, v: Val, acc: HostAcc, entry: bool, what: str = "") -> None:
        """A host's entry module (``what``: the name of a modules list it is one of):
        what cannot be followed in it is noted as this host's."""
        outer, self.current_host = self.current_host, acc.name or None
        try:
            if what:
                self.module_list(v, acc, entry, what)
            else:
                self.module(v, acc, entry)
        finally:
            self.current_host = outer

    def note(self, file: File, node: Node, reason: str, kind: str = "", subject: str = "") -> None:
        super().note(file, node, reason, kind, subject)
        if self.reading is not None:
            self.reading.gaps.append(Note(file.rel, file.line(node), reason, kind, subject))

    def note_external(self, file: File, node: Node, name: str) -> None:
        super().note_external(file, node, name)
        if self.reading is not None:
            self.reading.external.add(name)
            if self.without_sops_nix(name):
                self.reading.inert.add(name)

    def without_sops_nix(self, name: str) -> bool:
        """Whether the external module ``name`` (``input.nixosModules.x``,
        ``inputs.input.…``) comes from a flake input the lock shows not to depend on
        sops-nix: it cannot bring sops-nix's module."""
        parts = name.split(".")
        if parts[:2] == ["self", "inputs"]:
            parts = parts[2:]
        elif parts[:1] == ["inputs"]:
            parts = parts[1:]
        if len(parts) < 3 or "Modules" not in parts[1] or "sops" in parts[0]:
            return False
        if self._lock is None:
            from secretkit.nix.hosts.flake_lock import FlakeLock

            self._lock = FlakeLock(self.root)
        return self._lock.reaches(parts[0], "sops-nix") is False

    def module_list(self, v: Val, acc: HostAcc, entry: bool, what: str) -> None:
        elements, unknown = self.list_elements(v)
        for part in unknown:
            files = dir_modules(self, part)  # map (…) (attrNames (readDir ./modules))
            if files is not None:
                for rel in files:
                    self.file_module(rel, acc, entry)
                continue
            self.note(part.file, part.node, f"{what} built from {self.describe(part)}")
            if entry:
                acc.resolved = False
        for element in elements:
            self.module(element, acc, entry)

    def host_name_of(self, module: Val, acc: HostAcc) -> None:
        """``networking.hostName`` as an inline module sets it, where this reading can
        tell what it is (``{ networking.hostName = host.hostName; }`` in ``mapAttrs
        (name: host: …) hosts``)."""
        for full, binding in cst.iter_bindings(module.file, module.node):
            if full[:1] == ["config"]:
                full = full[1:]
            value = binding.child_by_field_name("expression")
            if full == ["networking", "hostName"] and value is not None:
                name = self.string_value(Val(value, module.file, module.scope))
                if name is not None:
                    acc.host_names.add((module.file.rel.as_posix(), binding.start_byte, name))

    def module(self, v: Val, acc: HostAcc, entry: bool, depth: int = 0) -> None:
        """One module expression of a host."""
        if depth > MAX_DEPTH:
            return
        while v.node.type == "parenthesized_expression":
            inner = next((c for c in v.node.named_children if c.type != "comment"), None)
            if inner is None:
                break
            v = Val(inner, v.file, v.scope)
        raw_name = cst.dotted_name(v.file, v.node)
        if raw_name is not None and "." in raw_name and raw_name.split(".")[0] not in v.scope:
            self.external_or_unresolved(v, raw_name, acc, entry)
            return
        dotted = raw_name is not None and "." in raw_name
        head = v.scope.get(raw_name.split(".")[0]) if raw_name is not None and dotted else None
        if raw_name is not None and isinstance(head, str) and head.startswith(ENTRY):
            self.entry_member(v, raw_name, head[len(ENTRY) :], acc, entry)
            return
        if v.node.type == "apply_expression":
            fname, _ = applied(v)
            if fname in _IMPORT_FUNCS:
                self.imported(v, acc, entry)
                return
            if fname is not None and fname.split(".")[-1] == "import-tree":
                self.import_tree(v, acc, entry)
                return
        target = self.deref(v)
        if isinstance(target, str) and target.startswith(ENTRY):  # a haumea entry
            for loaded in self.entry_files.get(target[len(ENTRY) :], ()):
                self.file_module(loaded, acc, entry)
            return
        if target is None or isinstance(target, str):
            self.note(v.file, v.node, f"module from {self.describe(v)}")
            return
        if target.file.rel != v.file.rel:  # `m = import ./m.nix; … imports = [ m ]`
            acc.as_module.add(target.file.rel)
        outside = self.with_input(target) if raw_name is not None else None
        if outside is not None:  # with nixos-hardware.nixosModules; [ common-pc ]
            self.note_external(target.file, target.node, outside)
            return
        node = target.node
        kind = node.type
        if self.from_modules_path(target):
            self.note_external(target.file, node, "a nixpkgs module under modulesPath")
            return
        if kind in ("path_expression", "string_expression") or self.joined(target):
            text = self.path_text(target)
            source = self.input_anchor(target) if text is None else None
            if source is not None:  # "${nixpkgs}/nixos/modules/…": not this repository
                self.note_external(target.file, node, f"a module of the flake input {source}")
                return
            if text is None and _SOPS_NIX_PATH.search(target.file.text(node)):
                # sops-nix's module without flakes: "${<sops-nix source>}/modules/sops"
                self.note_external(target.file, node, SOPS_NIX_SOURCE)
                return
            if text is None:
                self.note(target.file, node, f"module path built from {self.describe(target)}")
                return
            rel = self.resolve_path(target.file, node, text)
            if rel is not None:
                self.file_module(rel, acc, entry)
        elif kind in ("attrset_expression", "rec_attrset_expression") and target.prefix:
            # a module defined piecewise (flake.nixosModules.base.imports = …): its bindings
            cut = len(target.prefix)
            acc.modules.add(target.file.rel)
            for names, value, binding in cst.attrset_entries(target.file, node):
                if names and tuple(names[:cut]) == target.prefix and len(names) > cut:
                    acc.inline.append((target.file.rel, binding.start_byte, binding.end_byte))
                    inner = Val(value, target.file, target.scope)
                    self.binding(names[cut:], inner, acc, entry, depth + 1)
        elif kind in ("attrset_expression", "rec_attrset_expression"):
            acc.inline.append((target.file.rel, node.start_byte, node.end_byte))
            acc.modules.add(target.file.rel)
            self.host_name_of(target, acc)
            self.scan(target, acc, entry)
        elif kind == "function_expression":
            body = node.child_by_field_name("body")
            if body is not None:
                scope = self.shadow(target)
                self.module(Val(body, target.file, scope), acc, entry, depth + 1)
        elif kind == "spath_expression":
            self.note_external(target.file, node, target.file.text(node))
        else:
            name = cst.dotted_name(target.file, node)
            if name is not None and "." in name:
                self.external_or_unresolved(target, name, acc, entry)
            else:
                self.note(target.file, node, f"module from {self.describe(target)}")

    def entry_member(self, v: Val, name: str, entry_name: str, acc: HostAcc, entry: bool) -> None:
        """``host.default`` where ``host`` is a haumea entry (``mapAttrs (n: host: …)
        (haumea.lib.load { … })``): its ``default.nix``; any other member is noted, never
        taken for a flake input's module."""
        parts = name.split(".")
        files = self.entry_files.get(entry_name, ())
        defaults = [f for f in files if f.name == "default.nix"]
        found = min(defaults, key=lambda f: len(f.parts)) if defaults else None
        own = found is not None and all(found.parent in f.parents for f in files if f != found)
        if parts[1:] == ["default"] and found is not None and own:  # the directory's own
            self.file_module(found, acc, entry)
            return
        self.note(v.file, v.node, f"module from {name} of a haumea entry")

    def import_tree(self, v: Val, acc: HostAcc, entry: bool) -> None:
        """``import-tree ./dir``: every ``.nix`` file below ``dir`` is a module
        (:meth:`tree_files`)."""
        files = self.tree_files(v)
        if files is None:
            self.note(v.file, v.node, f"module from {self.describe(v)}")
            return
        for rel in files:
            self.file_module(rel, acc, entry)

    def from_modules_path(self, v: Val) -> bool:
        """``modulesPath + "/x.nix"`` or ``"${modulesPath}/x.nix"``: a module of nixpkgs."""
        node = v.node
        if node.type == "binary_expression":
            left = node.child_by_field_name("left")
            return left is not None and cst.dotted_name(v.file, left) == "modulesPath"
        if node.type in ("string_expression", "path_expression"):
            first = next(iter(node.named_children), None)
            if first is not None and first.type == "interpolation":
                inner = next(iter(first.named_children), None)
                return inner is not None and cst.dotted_name(v.file, inner) == "modulesPath"
        return False

    def external_or_unresolved(self, v: Val, name: str, acc: HostAcc, entry: bool) -> None:
        parts = name.split(".")
        if parts[0] == "self" and len(parts) > 1 and parts[1] == "inputs":
            self.note_external(v.file, v.node, ".".join(parts[1:]))  # self.inputs.x: an input
        elif parts[0] == "self":
            own = self.own_modules().get(tuple(parts[1:]))
            if own is not None:
                self.file_module(own, acc, entry)
            else:
                self.note(v.file, v.node, f"module from the flake's own output {name}")
        else:
            self.note_external(v.file, v.node, name)

    def own_modules(self) -> dict[tuple[str, ...], Path]:
        """``nixosModules.<n> = ./path;`` (and darwin/home modules) anywhere in flake.nix,
        flake-parts' ``flake.nixosModules`` included: what ``self.nixosModules.<n>`` is."""
        if self._own is None:
            self._own = {}
            file = self.load(Path("flake.nix"))
            if file is not None:
                kinds = ("nixosModules", "darwinModules", "homeModules", "homeManagerModules")
                for b in cst.bindings(file):
                    full = [*b.attrset_path, *b.attrpath]
                    hit = next((i for i, n in enumerate(full) if n in kinds), None)
                    value = _imported_path(file, b.value)  # `./m.nix` or `import ./m.nix`
                    if hit is None or len(full) != hit + 2 or value is None:
                        continue
                    text = file.text(value)
                    rel = None if "${" in text else self.resolve_path(file, value, text)
                    if rel is not None:
                        self._own[(full[hit], full[hit + 1])] = rel
        return self._own

    def with_input(self, v: Val) -> str | None:
        """``<env>.<name>`` for a bare name left unbound inside ``with <env>;`` where the
        environment is not the repository's (a flake input's ``nixosModules``), else None."""
        if v.node.type != "variable_expression":
            return None
        name = v.file.text(v.node)
        node = v.node.parent
        while node is not None and node.type != "with_expression":
            node = node.parent
        env = node.child_by_field_name("environment") if node is not None else None
        env_name = cst.dotted_name(v.file, env) if env is not None else None
        if env_name is None or env_name.split(".")[0] in ("self", "config", "lib", "pkgs"):
            return None
        if isinstance(v.scope.get(env_name.split(".")[0]), Val):
            return None  # a value of the repository's own code
        return f"{env_name}.{name}"

    def input_anchor(self, v: Val) -> str | None:
        """The flake input a string starts at (``"${nixpkgs}/…"``, ``nixpkgs`` an
        unbound parameter named like one of flake.nix's inputs; ``"${inputs.x}/…"``,
        ``"${self.inputs.x}/…"``), else None."""
        first = next((c for c in v.node.named_children if c.type != "comment"), None)
        if v.node.type != "string_expression" or first is None or first.type != "interpolation":
            return None
        inner = next((c for c in first.named_children if c.type != "comment"), None)
        name = v.file.text(inner) if inner is not None else ""
        if inner is not None and inner.type == "select_expression":  # "${self.inputs.x}/…"
            parts = (cst.dotted_name(v.file, inner) or "").split(".")
            if parts[:2] == ["self", "inputs"] and len(parts) > 2:
                return parts[2]
            if parts[0] == "inputs" and len(parts) > 1 and v.scope.get("inputs") is None:
                return parts[1]
            return None
        if inner is None or inner.type != "variable_expression" or v.scope.get(name) is not None:
            return None
        return name if name in self.flake_inputs() else None

    def flake_inputs(self) -> frozenset[str]:
        """The names of flake.nix's inputs (``inputs.<name>…``)."""
        if self._inputs is None:
            file = self.load(Path("flake.nix"))
            self._inputs = frozenset(
                full[1]
                for b in (cst.bindings(file) if file is not None else ())
                for full in [[*b.attrset_path, *b.attrpath]]
                if len(full) > 1 and full[0] == "inputs"
            )
        return self._inputs

    def imported(self, v: Val, acc: HostAcc, entry: bool) -> None:
        """``import X …`` / ``callPackage X …`` used as a module or anywhere in one."""
        parts = call_parts(v)
        if parts is None or not parts[1]:
            return
        head, (arg, *_) = parts
        target = self.deref(arg)
        if isinstance(target, Val) and (
            target.node.type in ("path_expression", "string_expression") or self.joined(target)
        ):
            text = self.path_text(target)
            if text is not None:
                rel = self.resolve_path(target.file, target.node, text)
                if rel is not None and rel.suffix == ".nix":
                    self.file_module(rel, acc, entry)
                return
        if isinstance(target, Val) and target.node.type == "spath_expression":
            self.note_external(target.file, target.node, target.file.text(target.node))
            return
        shown = target if isinstance(target, Val) else arg
        fname = cst.dotted_name(v.file, head) or "import"
        self.note(v.file, v.node, f"{fname} of {self.describe(shown)}")

    def file_module(self, rel: Path, acc: HostAcc, entry: bool) -> None:
        valued = self.value_from is not None
        if self.value_from is not None:
            acc.as_value.setdefault(rel, set()).add(self.value_from)
        else:
            acc.as_module.add(rel)
        if acc.record is not None:  # scanning a file once: just note what it references
            if rel not in acc.record:
                acc.record.append(rel)
            if self.in_home:
                acc.record_home.add(rel)
            return
        if entry and rel not in acc.entry:
            acc.entry.append(rel)
        self._reach(rel, acc, self.in_home, valued)
        if self.draining:
            return
        self.draining = True
        try:
            while self.queue:
                next_rel, next_acc, home, value_only = self.queue.pop(0)
                children, inline, seen = self.references(next_rel)
                next_acc.inline.extend(inline)
                # (code of another file reached through a value: `self.nixosModules.m`
                # = `import ./m.nix`; read whole, as reading it directly does)
                for path, _start, _end in inline:
                    next_acc.modules.add(path)
                    (next_acc.home if home else next_acc.system).add(path)
                next_acc.external |= seen.external
                if not value_only:
                    next_acc.gaps += seen.gaps
                next_acc.as_module |= seen.as_module
                for child, importers in seen.as_value.items():
                    next_acc.as_value.setdefault(child, set()).update(importers)
                for child in children:
                    child_home = home or child in seen.record_home
                    # read for its value, or by a file only read for its value
                    valued = value_only or child not in seen.as_module
                    self._reach(child, next_acc, child_home, valued)
        finally:
            self.draining = False

    def _reach(self, rel: Path, acc: HostAcc, home: bool, value_only: bool) -> None:
        """Queue ``rel`` for ``acc`` (files are scanned from a work list, not
        recursively: an import chain of any length cannot exhaust the Python stack; a
        file's imports are read in its context), once; a file read only as a value so
        far and now reached as a module is read again as one (its gaps count then)."""
        context = acc.home if home else acc.system
        if rel in context:
            if value_only or rel not in acc.value_only:
                return
            acc.value_only.discard(rel)
        else:
            context.add(rel)
            acc.modules.add(rel)
            acc.files.add(rel)
            if value_only:
                acc.value_only.add(rel)
        self.queue.append((rel, acc, home, value_only))

    def references(self, rel: Path) -> tuple[list[Path], list[tuple[Path, int, int]], HostAcc]:
        """The files a file references, its inline module spans, and what it imports
        from outside or could not follow (``external``, ``gaps``).  A file is read in
        an empty scope, so this does not depend on the host: each file is scanned once."""
        cached = self.refs.get(rel)
        if cached is None:
            # a file is read once for every host using it: its notes are the file's,
            # and what it imports is read in its own context (home-manager or not)
            outer, self.current_host = self.current_host, None
            outer_home, self.in_home = self.in_home, False
            probe = HostAcc(name="", record=[])
            reading, self.reading = self.reading, probe
            outer_value, self.value_from = self.value_from, None
            try:
                before = len(self.unresolved)
                file = self.load(rel)
                # a syntax error noted while loading: this file may hide modules too
                probe.gaps += self.unresolved[before:]
                top = cst.expression_root(file) if file is not None else None
                if file is not None and top is not None:
                    self.scan(Val(top, file, {}), probe, False)
            finally:
                self.reading = reading
                self.value_from = outer_value
            cached = (list(probe.record or []), list(probe.inline), probe)
            self.refs[rel] = cached
            self.current_host = outer
            self.in_home = outer_home
        return cached

    def scan(self, v: Val, acc: HostAcc, entry: bool) -> None:
        """Walk a module (file or inline) for the references it makes."""
        self._follow(v.node, v.file, v.scope, [], acc, entry, 0)

    def _follow(self, *args: Any) -> None:
        node, file = args[0], args[1]
        if self.level > MAX_LEVEL:
            self.note(file, node, "expression nested too deeply to follow")
            return
        self.level += 1
        try:
            self._follow_node(*args)
        finally:
            self.level -= 1

    def _follow_node(
        self,
        node: Node,
        file: File,
        scope: Mapping[str, Val | str | None],
        prefix: list[str],
        acc: HostAcc,
        entry: bool,
        depth: int,
    ) -> None:
        if depth > 400:
            return
        kind = node.type
        if kind == "let_expression":
            new_scope: dict[str, Val | str | None] = dict(scope)
            for names, value, _ in cst.attrset_entries(file, node):
                if names and len(names) == 1:
                    new_scope[names[0]] = Val(value, file, new_scope)
            for _names, value, _ in cst.attrset_entries(file, node):
                self._follow(value, file, new_scope, [], acc, entry, depth + 1)
            body = node.child_by_field_name("body")
            if body is not None:
                self._follow(body, file, new_scope, prefix, acc, entry, depth + 1)
            return
        if kind == "function_expression":
            body = node.child_by_field_name("body")
            if body is not None:
                scope = self.shadow(Val(node, file, scope))
                self._follow(body, file, scope, prefix, acc, entry, depth + 1)
            return
        if kind in ("attrset_expression", "rec_attrset_expression"):
            for names, value, binding in cst.attrset_entries(file, node):
                if binding.type != "binding":
                    continue
                path = prefix + (names or ["${…}"])
                self.binding(path, Val(value, file, scope), acc, entry, depth + 1)
            return
        if kind == "apply_expression" and applied(Val(node, file, scope))[0] in _IMPORT_FUNCS:
            # read for its value here; a module list naming it again says otherwise
            outer_value, self.value_from = self.value_from, file.rel
            try:
                self.imported(Val(node, file, scope), acc, False)
            finally:
                self.value_from = outer_value
        for child in node.named_children:
            self._follow(child, file, scope, [], acc, entry, depth + 1)

    def binding(self, path: list[str], val: Val, acc: HostAcc, entry: bool, depth: int) -> None:
        """``path = val;`` inside a module: module lists, home-manager users, or more code."""
        home = path[:1] == ["home-manager"] and (
            path[-1] == "sharedModules" or (len(path) == 3 and path[1] == "users")
        )
        outer, self.in_home = self.in_home, self.in_home or home
        try:
            # (a program's settings may name an attrset `imports`: deno's suggest.imports)
            listed = (cst.unwrap(val.node) or val.node).type not in cst.ATTRSETS
            if path and path[-1] in _MODULE_LISTS and listed:
                self.module_list(val, acc, entry, path[-1])
            elif home:
                self.module(val, acc, False)
            else:
                self._follow(val.node, val.file, val.scope, path, acc, entry, depth)
        finally:
            self.in_home = outer


def _imported_path(file: File, value: Node) -> Node | None:
    """The path literal of ``./m.nix`` or ``import ./m.nix`` (a module either way)."""
    if value.type == "path_expression":
        return value
    if value.type == "apply_expression":
        fn = value.child_by_field_name("function")
        arg = cst.unwrap(value.child_by_field_name("argument"))
        name = cst.dotted_name(file, fn) if fn is not None else None
        if name in ("import", "builtins.import") and arg is not None:
            return arg if arg.type == "path_expression" else None
    return None
