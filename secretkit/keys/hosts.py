"""Which hosts exist and which ``.nix`` files each one uses — without evaluating Nix.

Public API::

    discover(root: Path) -> Inventory
    Inventory.hosts: dict[str, Host]            # Host(name, entry_modules, modules, source, inline)
    Inventory.unresolved: list[tuple[Path, str]]  # (file, "line N: why") — never guessed
    Inventory.external: list[tuple[Path, str]]    # inputs.x.nixosModules.y & co: recorded only
    Inventory.hosts_of_file(path) -> set[str]     # repo-relative or absolute path
    Inventory.hosts_at(path, offset) -> set[str]  # precise where inline modules live (flake.nix)
    Inventory.files() -> dict[Path, set[str]]

Hosts come from (``Host.source``; a host found in several is joined with ``+``):

* ``flake``: ``nixosConfigurations.<h> = <…>.nixosSystem { modules = [ … ]; }`` in
  ``flake.nix`` outputs (also inside ``let``, ``//`` merges, flake-parts' ``flake = {…}``,
  and let-bound helpers like ``mkHost "h"`` whose body is a ``nixosSystem`` call with the
  argument substituted into paths such as ``./hosts/${name}``); a set built with
  ``haumea.lib.load { src = ./dir; }`` has the directory's entries as hosts (see
  :mod:`secretkit.keys.dir_loaders`);
* ``colmena``: the flake's ``colmena``/``colmenaHive`` output (``colmena.lib.makeHive {…}``)
  or ``hive.nix``: every attribute but ``meta``/``defaults``; ``defaults`` applies to all;
* ``hosts-dir``: ``hosts/<h>/default.nix`` or ``hosts/<h>/configuration.nix``, used when
  nothing else defines hosts, when a host set could not be resolved, or to fill in a host
  whose definition could not be followed.  A directory already imported by a host
  (``hosts/common``) is not a host.

From each host's entry modules the closure of static references is followed:
``imports``/``sharedModules`` lists, ``home-manager.users.<u>``, ``import ./x.nix`` and
``callPackage ./x.nix`` anywhere, ``./dir`` → ``dir/default.nix``, ``"${./x}"``, ``++`` of
lists and let-bound lists.  Anything else (imports built from ``builtins.readDir``,
``map``, unknown variables, missing files, paths outside the repository) is reported in
``unresolved`` with a line number.  Messages name node kinds, identifiers and paths
only, never string contents.  Nothing is evaluated; tree-sitter only parses.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secretkit.keys import dir_loaders
from secretkit.nix import cst

Node = Any  # tree_sitter.Node

_MAX_DEPTH = 60
_MAX_LEVEL = 120  # nested expressions followed at once (keeps well inside the Python stack)
_MAX_FILE_BYTES = 4 * 1024 * 1024
_IMPORT_FUNCS = ("import", "builtins.import", "callPackage", "pkgs.callPackage")
_MODULE_LISTS = ("imports", "sharedModules")
_NIXOS = "nixosConfigurations"
# flake output -> (Host.source, names of the builder function that takes `modules`)
_OUTPUTS = {
    _NIXOS: ("flake", ("nixosSystem",)),
    "darwinConfigurations": ("darwin", ("darwinSystem",)),
    "homeConfigurations": ("home-manager", ("homeManagerConfiguration",)),
}


@dataclass
class Host:
    name: str
    entry_modules: list[Path]
    modules: frozenset[Path]
    source: str  # "flake" | "colmena" | "hosts-dir", several joined with "+"
    inline: tuple[tuple[Path, int, int], ...] = ()  # inline module spans (file, start, end)
    files: frozenset[Path] = frozenset()  # modules used as whole files (not only inline code)


@dataclass
class Inventory:
    root: Path
    hosts: dict[str, Host]
    unresolved: list[tuple[Path, str]]
    external: list[tuple[Path, str]] = field(default_factory=list)

    def _rel(self, path: Path | str) -> Path:
        p = Path(path)
        if p.is_absolute():
            try:
                p = p.relative_to(self.root)
            except ValueError:
                return p
        return Path(p.as_posix())

    def hosts_of_file(self, path: Path | str) -> set[str]:
        rel = self._rel(path)
        return {h.name for h in self.hosts.values() if rel in h.modules}

    def hosts_at(self, path: Path | str, offset: int) -> set[str]:
        """Hosts using the code at byte ``offset`` of ``path``: inline module spans
        decide where they exist (``flake.nix``, ``hive.nix``), else the whole file."""
        rel = self._rel(path)
        spans = [(h.name, s, e) for h in self.hosts.values() for f, s, e in h.inline if f == rel]
        inside = {name for name, s, e in spans if s <= offset < e}
        whole = {h.name for h in self.hosts.values() if rel in h.files}
        if spans:
            # code outside every inline module of a definition file (a devShell in
            # flake.nix, say) is used by no host, unless a host imports the whole file
            return inside | whole
        return self.hosts_of_file(rel)

    def files(self) -> dict[Path, set[str]]:
        out: dict[Path, set[str]] = {}
        for host in self.hosts.values():
            for module in host.modules:
                out.setdefault(module, set()).add(host.name)
        return out


# ---------------------------------------------------------------------------
# parsed files (secretkit.nix.cst: tree-sitter-nix, never evaluated)
# ---------------------------------------------------------------------------


@dataclass
class _File:
    rel: Path
    source: bytes
    root: Node

    def text(self, node: Node) -> str:
        return self.source[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def line(self, node: Node) -> int:
        return int(node.start_point[0]) + 1


_ENTRY = "\x00haumea entry "  # a mapAttrs value bound to a haumea entry (never a string)


@dataclass(frozen=True)
class _Val:
    """An expression together with the file it is in and the names it can see."""

    node: Node
    file: _File
    scope: Mapping[str, _Val | str | None]
    # an attrset seen through a prefix: only its bindings ``prefix.<rest>`` count, as
    # ``<rest>`` (flake-parts' ``mkFlake {…} { flake.nixosConfigurations = …; }``)
    prefix: tuple[str, ...] = ()


def _top(node: Node) -> Node | None:
    """The expression of a ``source_code`` node."""
    for child in node.named_children:
        if child.type != "comment":
            return child
    return None


def _attr_names(file: _File, attrpath: Node) -> list[str] | None:
    """The names of an attrpath, or None when a part is dynamic (``${…}``)."""
    names: list[str] = []
    for part in attrpath.named_children:
        if part.type == "identifier":
            names.append(file.text(part))
        elif part.type == "string_expression":
            kids = [c for c in part.named_children]
            if any(c.type != "string_fragment" for c in kids):
                return None
            names.append("".join(file.text(c) for c in kids))
        else:
            return None
    return names


def _select_name(file: _File, node: Node) -> str | None:
    """``a.b.c`` for a variable or select expression made of plain names."""
    if node.type == "variable_expression":
        return file.text(node)
    if node.type == "select_expression":
        head = node.child_by_field_name("expression")
        path = node.child_by_field_name("attrpath")
        if head is None or path is None or node.child_by_field_name("default") is not None:
            return None
        base = _select_name(file, head)
        names = _attr_names(file, path)
        if base is None or names is None:
            return None
        return ".".join([base, *names])
    return None


def _bindings(file: _File, node: Node) -> Iterator[tuple[list[str] | None, Node, Node]]:
    """(attrpath names, value node, binding node) of an attrset/let binding_set.
    ``inherit a b;`` yields (["a"], identifier node, inherit node) per name."""
    for child in node.named_children:
        if child.type != "binding_set":
            continue
        for b in child.named_children:
            if b.type == "binding":
                path = b.child_by_field_name("attrpath")
                value = b.child_by_field_name("expression")
                if path is not None and value is not None:
                    yield _attr_names(file, path), value, b
            elif b.type in ("inherit", "inherit_from"):
                attrs = b.child_by_field_name("attrs")
                if b.type == "inherit_from" or attrs is None:
                    continue
                for ident in attrs.named_children:
                    if ident.type == "identifier":
                        yield [file.text(ident)], ident, b


# ---------------------------------------------------------------------------
# the walker
# ---------------------------------------------------------------------------


@dataclass
class _Acc:
    name: str
    sources: list[str] = field(default_factory=list)
    entry: list[Path] = field(default_factory=list)
    modules: set[Path] = field(default_factory=set)
    inline: list[tuple[Path, int, int]] = field(default_factory=list)
    resolved: bool = True
    record: list[Path] | None = None  # set while a file is scanned once for its references
    files: set[Path] = field(default_factory=set)  # modules imported as whole files

    def source(self, kind: str) -> None:
        if kind not in self.sources:
            self.sources.append(kind)


class _Discovery:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.resolved_root = root.resolve()
        self.cache: dict[Path, _File | None] = {}
        self.unresolved: list[tuple[Path, str]] = []
        self.external: list[tuple[Path, str]] = []
        self.hosts: dict[str, _Acc] = {}
        self.host_set_unresolved = False
        self.definition_files: set[Path] = set()
        self.flake_outputs: list[_Val] = []
        self.queue: list[tuple[Path, _Acc]] = []
        self.refs: dict[Path, tuple[list[Path], list[tuple[Path, int, int]]]] = {}
        self.draining = False
        self.level = 0  # nesting of deref/_walk calls, bounded by _MAX_LEVEL
        self.hives_done: set[tuple[Path, int]] = set()
        self._own: dict[tuple[str, ...], Path] | None = None
        self._submodules: list[str] | None = None
        self.entry_files: dict[str, tuple[Path, ...]] = {}  # a haumea entry's own files

    # -- reporting ---------------------------------------------------------------
    def note(self, file: _File, node: Node, reason: str) -> None:
        item = (file.rel, f"line {file.line(node)}: {reason}")
        if item not in self.unresolved:
            self.unresolved.append(item)

    def note_external(self, file: _File, node: Node, name: str) -> None:
        item = (file.rel, f"line {file.line(node)}: {name}")
        if item not in self.external:
            self.external.append(item)

    # -- files -------------------------------------------------------------------
    def load(self, rel: Path) -> _File | None:
        if rel in self.cache:
            return self.cache[rel]
        path = self.root / rel
        result: _File | None = None
        try:
            if path.stat().st_size <= _MAX_FILE_BYTES:
                source = path.read_bytes()
                tree = cst.parse(source)
                result = _File(rel=rel, source=source, root=tree.root)
                if tree.has_errors:
                    first = min((start for start, _ in tree.error_spans), default=0)
                    line = tree.position(first)[0]
                    item = (rel, f"line {line}: syntax error; what follows may be incomplete")
                    self.unresolved.append(item)
        except OSError:
            result = None
        self.cache[rel] = result
        return result

    def resolve_path(self, file: _File, node: Node, text: str) -> Path | None:
        """A path literal's target as a repo-relative ``.nix`` file, or None (noted)."""
        if text.startswith(("/", "~")):
            self.note(file, node, "path outside the repository")
            return None
        target = (self.root / file.rel).parent / text
        try:
            resolved = target.resolve()
            rel = resolved.relative_to(self.resolved_root)
        except ValueError:
            self.note(file, node, "path outside the repository")
            return None
        except OSError:
            self.note(file, node, f"cannot resolve {text}")
            return None
        if (self.root / rel).is_dir():
            rel = rel / "default.nix"
        if not (self.root / rel).is_file():
            module = self.submodule_of(rel)
            if module is not None:  # like a flake input: outside this repository's code
                self.note_external(file, node, f"git submodule {module} ({rel.as_posix()})")
            else:
                self.note(file, node, f"imported file {rel.as_posix()} does not exist")
            return None
        return Path(rel.as_posix())

    def submodule_of(self, rel: Path) -> str | None:
        """The git submodule path (from ``.gitmodules``) that ``rel`` lies in, if any."""
        if self._submodules is None:
            self._submodules = []
            try:
                text = (self.root / ".gitmodules").read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            for line in text.splitlines():
                key, _, value = line.strip().partition("=")
                if key.strip() == "path" and value.strip():
                    self._submodules.append(value.strip().strip("/"))
        posix = rel.as_posix()
        return next((m for m in self._submodules if posix.startswith(m + "/")), None)

    def path_text(self, v: _Val) -> str | None:
        """The text of a path literal, with ``${name}`` parts substituted when known."""
        node, file = v.node, v.file
        if node.type == "path_expression":
            parts: list[str] = []
            for child in node.named_children:
                if child.type == "path_fragment":
                    parts.append(file.text(child))
                elif child.type == "interpolation":
                    inner = next(iter(child.named_children), None)
                    value = self.string_value(_Val(inner, file, v.scope)) if inner else None
                    if value is None or "/" in value or value in ("", ".", ".."):
                        return None
                    parts.append(value)
                else:
                    return None
            return "".join(parts)
        if node.type == "string_expression":  # "${./x}"
            kids = list(node.named_children)
            if len(kids) == 1 and kids[0].type == "interpolation":
                inner = next(iter(kids[0].named_children), None)
                if inner is not None:
                    target = self.deref(_Val(inner, file, v.scope))
                    if isinstance(target, _Val) and target.node.type == "path_expression":
                        return self.path_text(target)
        return None

    def string_value(self, v: _Val) -> str | None:
        target = self.deref(v)
        if isinstance(target, str):
            return target
        if target is None or target.node.type != "string_expression":
            return None
        kids = list(target.node.named_children)
        if any(k.type != "string_fragment" for k in kids):
            return None
        return "".join(target.file.text(k) for k in kids)

    # -- light dereferencing -------------------------------------------------------
    def deref(self, v: _Val, depth: int = 0) -> _Val | str | None:
        """Follow parentheses, let, known variables, ``import <path>`` and calls of
        let-bound functions; return the expression reached (or a bound string)."""
        if self.level > _MAX_LEVEL:
            self.note(v.file, v.node, "expression nested too deeply to follow")
            return None
        self.level += 1
        try:
            return self._deref(v, depth)
        finally:
            self.level -= 1

    def _deref(self, v: _Val, depth: int) -> _Val | str | None:
        node = v.node
        while depth < _MAX_DEPTH:
            depth += 1
            kind = node.type
            if kind == "parenthesized_expression":
                inner = node.child_by_field_name("expression") or next(
                    iter(node.named_children), None
                )
                if inner is None:
                    return None
                v = _Val(inner, v.file, v.scope)
                node = inner
            elif kind == "let_expression":
                scope: dict[str, _Val | str | None] = dict(v.scope)
                for names, value, _ in _bindings(v.file, node):
                    if names and len(names) == 1:
                        scope[names[0]] = _Val(value, v.file, scope)
                body = node.child_by_field_name("body")
                if body is None:
                    return None
                v = _Val(body, v.file, scope)
                node = body
            elif kind in ("variable_expression", "identifier"):
                name = v.file.text(node)
                bound = v.scope.get(name)
                if bound is None or isinstance(bound, str):
                    return bound if isinstance(bound, str) else v
                v = bound
                node = v.node
            elif kind == "apply_expression":
                called = self.call(v, depth)
                if called is None:
                    return v
                v = called
                node = v.node
            else:
                return v
        return None

    def call(self, v: _Val, depth: int) -> _Val | None:
        """``import ./f.nix`` (possibly applied further) or a let-bound function applied to
        arguments: the body with the parameters bound.  None when not followable."""
        args: list[_Val] = []
        head = v.node
        while head.type == "apply_expression":
            arg = head.child_by_field_name("argument")
            fn = head.child_by_field_name("function")
            if arg is None or fn is None:
                return None
            args.insert(0, _Val(arg, v.file, v.scope))
            head = fn
        name = _select_name(v.file, head)
        if name in ("import", "builtins.import") and args:
            target = self.deref(args[0], depth + 1)
            if target is None or isinstance(target, str):
                return None
            text = self.path_text(target)
            if text is None:
                return None
            rel = self.resolve_path(target.file, target.node, text)
            if rel is None:
                return None
            imported = self.load(rel)
            top = _top(imported.root) if imported is not None else None
            if imported is None or top is None:
                return None
            fn_val: _Val | str | None = _Val(top, imported, {})
            args = args[1:]
        else:
            fn_val = self.deref(_Val(head, v.file, v.scope), depth + 1)
        for arg in args:
            fn_val = self._bind(fn_val, arg, depth)
            if fn_val is None:
                return None
        return fn_val if isinstance(fn_val, _Val) else None

    def _bind(self, fn: _Val | str | None, arg: _Val, depth: int) -> _Val | None:
        if fn is None or isinstance(fn, str):
            return None
        fn_d = self.deref(fn, depth + 1)
        if fn_d is None or isinstance(fn_d, str) or fn_d.node.type != "function_expression":
            return None
        node = fn_d.node
        body = node.child_by_field_name("body")
        if body is None:
            return None
        scope: dict[str, _Val | str | None] = dict(fn_d.scope)
        universal = node.child_by_field_name("universal")
        formals = node.child_by_field_name("formals")
        value = self.string_value(arg)
        if universal is not None:
            scope[fn_d.file.text(universal)] = value if value is not None else arg
        if formals is not None:
            given: dict[str, _Val] = {}
            target = self.deref(arg, depth + 1)
            if isinstance(target, _Val) and target.node.type in (
                "attrset_expression",
                "rec_attrset_expression",
            ):
                for names, val, _ in _bindings(target.file, target.node):
                    if names and len(names) == 1:
                        given[names[0]] = _Val(val, target.file, target.scope)
            for formal in formals.named_children:
                if formal.type != "formal":
                    continue
                ident = formal.child_by_field_name("name")
                if ident is None:
                    continue
                fname = fn_d.file.text(ident)
                if fname in given:
                    s = self.string_value(given[fname])
                    scope[fname] = s if s is not None else given[fname]
                else:
                    default = formal.child_by_field_name("default")
                    scope[fname] = _Val(default, fn_d.file, scope) if default else None
        return _Val(body, fn_d.file, scope)

    def attrsets(self, v: _Val, depth: int = 0) -> list[_Val]:
        """The attribute sets an expression is made of (``//`` merges, flake-parts)."""
        if depth > _MAX_DEPTH:
            return []
        target = self.deref(v)
        if target is None or isinstance(target, str):
            return []
        node = target.node
        if node.type in ("attrset_expression", "rec_attrset_expression"):
            return [target]
        if node.type == "binary_expression":
            op = node.child_by_field_name("operator")
            if op is not None and target.file.text(op) == "//":
                out: list[_Val] = []
                for side in ("left", "right"):
                    child = node.child_by_field_name(side)
                    if child is not None:
                        out += self.attrsets(_Val(child, target.file, target.scope), depth + 1)
                return out
        if node.type == "apply_expression":  # flake-parts mkFlake {…} { flake = {…}; }
            arg = node.child_by_field_name("argument")
            if arg is not None:
                found: list[_Val] = []
                for aset in self.attrsets(_Val(arg, target.file, target.scope), depth + 1):
                    dotted = False
                    for names, value, _ in _bindings(aset.file, aset.node):
                        if names == ["flake"]:
                            found += self.attrsets(_Val(value, aset.file, aset.scope), depth + 1)
                        elif names and names[0] == "flake":
                            dotted = True
                    if dotted:  # flake.nixosConfigurations = …; flake.colmena = …;
                        found.append(_Val(aset.node, aset.file, aset.scope, ("flake",)))
                return found
        return []

    def merge_parts(self, v: _Val, depth: int = 0) -> list[_Val]:
        """The operands of ``a // b // …`` (dereferenced); one part for anything else."""
        target = self.deref(v)
        if not isinstance(target, _Val) or depth > _MAX_DEPTH:
            return [v]
        node = target.node
        op = node.child_by_field_name("operator") if node.type == "binary_expression" else None
        if op is not None and target.file.text(op) == "//":
            out: list[_Val] = []
            for side in ("left", "right"):
                child = node.child_by_field_name(side)
                if child is not None:
                    out += self.merge_parts(_Val(child, target.file, target.scope), depth + 1)
            return out
        return [target]

    def maps_configurations(self, v: _Val) -> bool:
        """``(builtins.)mapAttrs f self.nixosConfigurations``."""
        node = v.node
        if node.type != "apply_expression":
            return False
        arg = node.child_by_field_name("argument")
        head = node.child_by_field_name("function")
        while head is not None and head.type == "apply_expression":
            head = head.child_by_field_name("function")
        fname = _select_name(v.file, head) if head is not None else None
        argname = _select_name(v.file, arg) if arg is not None else None
        return (
            fname is not None
            and fname.split(".")[-1] == "mapAttrs"
            and argname in ("self.nixosConfigurations", "nixosConfigurations")
        )

    def members(self, sets: list[_Val], name: str) -> Iterator[tuple[list[str], _Val, Node]]:
        """Bindings ``name.<rest> = value`` (rest may be empty) in the given sets."""
        for aset in sets:
            cut = len(aset.prefix)
            for names, value, binding in _bindings(aset.file, aset.node):
                if cut and (names is None or tuple(names[:cut]) != aset.prefix):
                    continue
                names = names[cut:] if names else names
                if names and names[0] == name:
                    yield names[1:], _Val(value, aset.file, aset.scope), binding

    # -- modules -------------------------------------------------------------------
    def list_elements(self, v: _Val, depth: int = 0) -> tuple[list[_Val], list[_Val]]:
        """(elements, parts that are not lists we can read) of a list, ``a ++ b``, or a
        variable bound to one."""
        target = self.deref(v)
        if not isinstance(target, _Val) or depth > _MAX_DEPTH:
            return [], [v]
        node = target.node
        if node.type == "list_expression":
            return [_Val(e, target.file, target.scope) for e in node.named_children
                    if e.type != "comment"], []  # fmt: skip
        op = node.child_by_field_name("operator") if node.type == "binary_expression" else None
        if op is not None and target.file.text(op) == "++":
            elements: list[_Val] = []
            unknown: list[_Val] = []
            for side in ("left", "right"):
                child = node.child_by_field_name(side)
                if child is not None:
                    found, missing = self.list_elements(
                        _Val(child, target.file, target.scope), depth + 1
                    )
                    elements += found
                    unknown += missing
            return elements, unknown
        return [], [target]

    def describe(self, v: _Val) -> str:
        node = v.node
        name = _select_name(v.file, node)
        if name is not None:
            return f"the variable {name}" if "." not in name else f"{name}"
        if node.type == "apply_expression":
            head = node
            while head.type == "apply_expression":
                fn = head.child_by_field_name("function")
                if fn is None:
                    break
                head = fn
            fname = _select_name(v.file, head)
            return f"a call of {fname}" if fname else "a function call"
        if node.type in ("path_expression", "string_expression"):
            names = [
                n
                for child in node.named_children
                if child.type == "interpolation"
                for n in [_select_name(v.file, next(iter(child.named_children), child))]
                if n is not None
            ]
            if names:
                return f"a path built from {', '.join(dict.fromkeys(names))}"
        return f"a {node.type.replace('_', ' ')}"

    def module_list(self, v: _Val, acc: _Acc, entry: bool, what: str) -> None:
        elements, unknown = self.list_elements(v)
        for part in unknown:
            self.note(part.file, part.node, f"{what} built from {self.describe(part)}")
            if entry:
                acc.resolved = False
        for element in elements:
            self.module(element, acc, entry)

    def module(self, v: _Val, acc: _Acc, entry: bool, depth: int = 0) -> None:
        """One module expression of a host."""
        if depth > _MAX_DEPTH:
            return
        while v.node.type == "parenthesized_expression":
            inner = next((c for c in v.node.named_children if c.type != "comment"), None)
            if inner is None:
                break
            v = _Val(inner, v.file, v.scope)
        raw_name = _select_name(v.file, v.node)
        if raw_name is not None and "." in raw_name and raw_name.split(".")[0] not in v.scope:
            self.external_or_unresolved(v, raw_name, acc, entry)
            return
        if v.node.type == "apply_expression":
            head = v.node.child_by_field_name("function")
            while head is not None and head.type == "apply_expression":
                head = head.child_by_field_name("function")
            fname = _select_name(v.file, head) if head is not None else None
            if fname in _IMPORT_FUNCS:
                self.imported(v, acc, entry)
                return
            if fname is not None and fname.split(".")[-1] == "import-tree":
                self.import_tree(v, acc, entry)
                return
        target = self.deref(v)
        if isinstance(target, str) and target.startswith(_ENTRY):  # a haumea entry
            for loaded in self.entry_files.get(target[len(_ENTRY) :], ()):
                self.file_module(loaded, acc, entry)
            return
        if target is None or isinstance(target, str):
            self.note(v.file, v.node, f"module from {self.describe(v)}")
            return
        node = target.node
        kind = node.type
        if self.from_modules_path(target):
            self.note_external(target.file, node, "a nixpkgs module under modulesPath")
            return
        if kind in ("path_expression", "string_expression"):
            text = self.path_text(target)
            if text is None:
                self.note(target.file, node, f"module path built from {self.describe(target)}")
                return
            rel = self.resolve_path(target.file, node, text)
            if rel is not None:
                self.file_module(rel, acc, entry)
        elif kind in ("attrset_expression", "rec_attrset_expression"):
            acc.inline.append((target.file.rel, node.start_byte, node.end_byte))
            acc.modules.add(target.file.rel)
            self.scan(target, acc, entry)
        elif kind == "function_expression":
            body = node.child_by_field_name("body")
            if body is not None:
                scope = self.shadow(target)
                self.module(_Val(body, target.file, scope), acc, entry, depth + 1)
        elif kind == "spath_expression":
            self.note_external(target.file, node, target.file.text(node))
        else:
            name = _select_name(target.file, node)
            if name is not None and "." in name:
                self.external_or_unresolved(target, name, acc, entry)
            else:
                self.note(target.file, node, f"module from {self.describe(target)}")

    def import_tree(self, v: _Val, acc: _Acc, entry: bool) -> None:
        """``import-tree ./dir``: every ``.nix`` file below ``dir`` is a module, except
        paths with a part starting with ``_`` (import-tree's convention)."""
        arg = v.node.child_by_field_name("argument")
        text = self.path_text(_Val(arg, v.file, v.scope)) if arg is not None else None
        if text is None or text.startswith(("/", "~")):
            self.note(v.file, v.node, f"module from {self.describe(v)}")
            return
        base = (self.root / v.file.rel).parent / text
        try:
            rel_base = base.resolve().relative_to(self.resolved_root)
            found = sorted(base.resolve().rglob("*.nix"))
        except (OSError, ValueError):
            self.note(v.file, v.node, "import-tree of a directory outside the repository")
            return
        for path in found:
            rel = Path(path.relative_to(self.resolved_root).as_posix())
            inside = rel.relative_to(rel_base).parts
            if any(part.startswith("_") for part in inside):
                continue
            self.file_module(rel, acc, entry)

    def from_modules_path(self, v: _Val) -> bool:
        """``modulesPath + "/x.nix"`` or ``"${modulesPath}/x.nix"``: a module of nixpkgs."""
        node = v.node
        if node.type == "binary_expression":
            left = node.child_by_field_name("left")
            return left is not None and _select_name(v.file, left) == "modulesPath"
        if node.type in ("string_expression", "path_expression"):
            first = next(iter(node.named_children), None)
            if first is not None and first.type == "interpolation":
                inner = next(iter(first.named_children), None)
                return inner is not None and _select_name(v.file, inner) == "modulesPath"
        return False

    def external_or_unresolved(self, v: _Val, name: str, acc: _Acc, entry: bool) -> None:
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
                tree = cst.NixTree(root=file.root, source=file.source, has_errors=False)
                kinds = ("nixosModules", "darwinModules", "homeModules", "homeManagerModules")
                for b in cst.bindings(tree):
                    full = [*b.attrset_path, *b.attrpath]
                    hit = next((i for i, n in enumerate(full) if n in kinds), None)
                    if hit is None or len(full) != hit + 2 or b.value.type != "path_expression":
                        continue
                    text = file.text(b.value)
                    rel = None if "${" in text else self.resolve_path(file, b.value, text)
                    if rel is not None:
                        self._own[(full[hit], full[hit + 1])] = rel
        return self._own

    def shadow(self, fn: _Val) -> dict[str, _Val | str | None]:
        """Scope for a module function body: its parameters are unknown values."""
        scope: dict[str, _Val | str | None] = dict(fn.scope)
        universal = fn.node.child_by_field_name("universal")
        if universal is not None:
            scope[fn.file.text(universal)] = None
        formals = fn.node.child_by_field_name("formals")
        for formal in formals.named_children if formals is not None else []:
            ident = formal.child_by_field_name("name") if formal.type == "formal" else None
            if ident is not None:
                scope[fn.file.text(ident)] = None
        return scope

    def imported(self, v: _Val, acc: _Acc, entry: bool) -> None:
        """``import X …`` / ``callPackage X …`` used as a module or anywhere in one."""
        head = v.node
        first_arg: Node | None = None
        while head.type == "apply_expression":
            first_arg = head.child_by_field_name("argument")
            fn = head.child_by_field_name("function")
            if fn is None:
                return
            head = fn
        if first_arg is None:
            return
        arg = _Val(first_arg, v.file, v.scope)
        target = self.deref(arg)
        if isinstance(target, _Val) and target.node.type in (
            "path_expression",
            "string_expression",
        ):
            text = self.path_text(target)
            if text is not None:
                rel = self.resolve_path(target.file, target.node, text)
                if rel is not None and rel.suffix == ".nix":
                    self.file_module(rel, acc, entry)
                return
        if isinstance(target, _Val) and target.node.type == "spath_expression":
            self.note_external(target.file, target.node, target.file.text(target.node))
            return
        shown = target if isinstance(target, _Val) else arg
        fname = _select_name(v.file, head) or "import"
        self.note(v.file, v.node, f"{fname} of {self.describe(shown)}")

    def file_module(self, rel: Path, acc: _Acc, entry: bool) -> None:
        if acc.record is not None:  # scanning a file once: just note what it references
            if rel not in acc.record:
                acc.record.append(rel)
            return
        if entry and rel not in acc.entry:
            acc.entry.append(rel)
        if rel in acc.files:
            return
        acc.modules.add(rel)
        acc.files.add(rel)
        # files are scanned from a work list, not recursively: an import chain of any
        # length cannot exhaust the Python stack
        self.queue.append((rel, acc))
        if self.draining:
            return
        self.draining = True
        try:
            while self.queue:
                next_rel, next_acc = self.queue.pop(0)
                children, inline = self.references(next_rel)
                next_acc.inline.extend(inline)
                for child in children:
                    if child not in next_acc.files:
                        next_acc.modules.add(child)
                        next_acc.files.add(child)
                        self.queue.append((child, next_acc))
        finally:
            self.draining = False

    def references(self, rel: Path) -> tuple[list[Path], list[tuple[Path, int, int]]]:
        """The files a file references and its inline module spans.  A file is read in
        an empty scope, so this does not depend on the host: each file is scanned once."""
        cached = self.refs.get(rel)
        if cached is None:
            probe = _Acc(name="", record=[])
            file = self.load(rel)
            top = _top(file.root) if file is not None else None
            if file is not None and top is not None:
                self.scan(_Val(top, file, {}), probe, False)
            cached = (list(probe.record or []), list(probe.inline))
            self.refs[rel] = cached
        return cached

    def scan(self, v: _Val, acc: _Acc, entry: bool) -> None:
        """Walk a module (file or inline) for the references it makes."""
        self._walk(v.node, v.file, v.scope, [], acc, entry, 0)

    def _walk(self, *args: Any) -> None:
        node, file = args[0], args[1]
        if self.level > _MAX_LEVEL:
            self.note(file, node, "expression nested too deeply to follow")
            return
        self.level += 1
        try:
            self._walk_node(*args)
        finally:
            self.level -= 1

    def _walk_node(
        self,
        node: Node,
        file: _File,
        scope: Mapping[str, _Val | str | None],
        prefix: list[str],
        acc: _Acc,
        entry: bool,
        depth: int,
    ) -> None:
        if depth > 400:
            return
        kind = node.type
        if kind == "let_expression":
            new_scope: dict[str, _Val | str | None] = dict(scope)
            for names, value, _ in _bindings(file, node):
                if names and len(names) == 1:
                    new_scope[names[0]] = _Val(value, file, new_scope)
            for _names, value, _ in _bindings(file, node):
                self._walk(value, file, new_scope, [], acc, entry, depth + 1)
            body = node.child_by_field_name("body")
            if body is not None:
                self._walk(body, file, new_scope, prefix, acc, entry, depth + 1)
            return
        if kind == "function_expression":
            body = node.child_by_field_name("body")
            if body is not None:
                scope = self.shadow(_Val(node, file, scope))
                self._walk(body, file, scope, prefix, acc, entry, depth + 1)
            return
        if kind in ("attrset_expression", "rec_attrset_expression"):
            for names, value, binding in _bindings(file, node):
                if binding.type != "binding":
                    continue
                path = prefix + (names or ["${…}"])
                self.binding(path, _Val(value, file, scope), acc, entry, depth + 1)
            return
        if kind == "apply_expression":
            head = node
            while head.type == "apply_expression":
                fn = head.child_by_field_name("function")
                if fn is None:
                    break
                head = fn
            if _select_name(file, head) in _IMPORT_FUNCS:
                self.imported(_Val(node, file, scope), acc, False)
        for child in node.named_children:
            self._walk(child, file, scope, [], acc, entry, depth + 1)

    def binding(self, path: list[str], val: _Val, acc: _Acc, entry: bool, depth: int) -> None:
        """``path = val;`` inside a module: module lists, home-manager users, or more code."""
        if path and path[-1] in _MODULE_LISTS:
            self.module_list(val, acc, entry, path[-1])
        elif len(path) == 3 and path[:2] == ["home-manager", "users"]:
            self.module(val, acc, False)
        else:
            self._walk(val.node, val.file, val.scope, path, acc, entry, depth)

    # -- host definitions -------------------------------------------------------------
    def host(self, name: str, kind: str) -> _Acc:
        acc = self.hosts.setdefault(name, _Acc(name))
        acc.source(kind)
        return acc

    def system(self, name: str, v: _Val, binding: Node, output: str = _NIXOS) -> None:
        """``nixosConfigurations.<name> = <…>`` (or darwin/home-manager configurations)."""
        kind, builder = _OUTPUTS[output]
        acc = self.host(name, kind)
        target = self.deref(v)
        if isinstance(target, _Val) and target.node.type == "apply_expression":
            fn = target.node.child_by_field_name("function")
            arg = target.node.child_by_field_name("argument")
            fname = _select_name(target.file, fn) if fn is not None else None
            if fname is not None and fname.split(".")[-1] in builder and arg is not None:
                for rest, modules, _ in self.members(
                    self.attrsets(_Val(arg, target.file, target.scope)), "modules"
                ):
                    if not rest:
                        self.module_list(modules, acc, True, "modules")
                        return
                self.note(target.file, target.node, f"{fname} call for {name} has no modules")
                return
        shown = target if isinstance(target, _Val) else v
        self.note(v.file, binding, f"host {name} is defined by {self.describe(shown)}")
        acc.resolved = False

    def flake(self) -> None:
        rel = Path("flake.nix")
        file = self.load(rel)
        if file is None:
            return
        self.definition_files.add(rel)
        top = _top(file.root)
        if top is None:
            return
        root_sets = self.attrsets(_Val(top, file, {}))
        for rest, outputs, _ in self.members(root_sets, "outputs"):
            if rest:
                continue
            target = self.deref(outputs)
            if not isinstance(target, _Val) or target.node.type != "function_expression":
                self.note(file, outputs.node, "flake outputs is not a function")
                continue
            body = target.node.child_by_field_name("body")
            if body is None:
                continue
            sets = self.attrsets(_Val(body, file, self.shadow(target)))
            self.flake_outputs = sets
            for output in _OUTPUTS:
                self.configurations(sets, output)
            self.deploy_nodes(sets)
            for output in ("colmena", "colmenaHive"):
                for rest2, hive, binding in self.members(sets, output):
                    if rest2:
                        self.hive_node_part(rest2, hive, binding)
                    else:
                        self.hive(hive)
            if not self.hosts and self.clan():
                # `nixosConfigurations = clan.config.nixosConfigurations`: clan's machines
                # stand for it, so that is not something left unresolved
                self.unresolved = [
                    (f, why)
                    for f, why in self.unresolved
                    if not (f == rel and "Configurations is built from" in why and "clan" in why)
                ]
                self.host_set_unresolved = False
            elif not self.hosts and not self.host_set_unresolved:
                self.note(
                    file, outputs.node, "no nixosConfigurations or colmena hive found in outputs"
                )
                self.host_set_unresolved = True

    def clan(self) -> bool:
        """clan-core machines (:mod:`secretkit.keys.clan_hosts`): each one's
        ``machines/<name>/configuration.nix`` and inline ``machines.<name>`` code."""
        from secretkit.keys.clan_hosts import find_clan

        found = find_clan(self.root)
        if found is None:
            return False
        self.definition_files.add(found.definition)
        self.unresolved.extend(found.notes)
        for machine in found.machines.values():
            acc = self.host(machine.name, "clan" if machine.kind == "nixos" else "clan-darwin")
            if machine.entry is not None:
                self.file_module(machine.entry, acc, True)
            for module in machine.extra:  # inventory roles' extraModules
                self.file_module(module, acc, True)
            for rel, start, end in machine.inline:
                file = self.load(rel)
                binding = file.root.descendant_for_byte_range(start, end) if file else None
                value = binding.child_by_field_name("expression") if binding else None
                if file is None or value is None:
                    continue
                acc.inline.append((rel, start, end))
                acc.modules.add(rel)
                self.module(_Val(value, file, {}), acc, True)
            if machine.entry is None and not machine.inline:
                self.note_machine(found.definition, machine.name, machine.declared_in)
        return True

    def note_machine(self, rel: Path, name: str, seen: str) -> None:
        where = (
            rel,
            f"machine {name} ({seen}) has no machines/{name}/configuration.nix; "
            "its modules come from the clan inventory only",
        )
        if where not in self.unresolved:
            self.unresolved.append(where)

    def deploy_nodes(self, sets: list[_Val]) -> None:
        """deploy-rs ``deploy.nodes.<n>``: deploys ``nixosConfigurations.<n>``."""
        names: dict[str, _Val] = {}
        for rest, value, _ in self.members(sets, "deploy"):
            if len(rest) >= 2 and rest[0] == "nodes":
                names.setdefault(rest[1], value)
            elif rest == ["nodes"]:
                for aset in self.attrsets(value):
                    for n, v2, _ in _bindings(aset.file, aset.node):
                        if n:
                            names.setdefault(n[0], _Val(v2, aset.file, aset.scope))
            elif not rest:
                for aset in self.attrsets(value):
                    for n, v2, _ in _bindings(aset.file, aset.node):
                        if n and n[0] == "nodes" and len(n) >= 2:
                            names.setdefault(n[1], _Val(v2, aset.file, aset.scope))
        for name, value in names.items():
            if name in self.hosts:
                self.hosts[name].source("deploy-rs")
            else:
                self.note(value.file, value.node, f"deploy-rs node {name} has no configuration")

    def configurations(self, sets: list[_Val], output: str = _NIXOS) -> None:
        for rest, value, binding in self.members(sets, output):
            if len(rest) == 1:
                self.system(rest[0], value, binding, output)
            elif not rest:
                if self.loaded_hosts(value, binding, output):
                    continue
                inner = self.attrsets(value)
                generated = self.gen_attrs(value) if not inner else None
                for host_name, host_value in generated or []:
                    self.system(host_name, host_value, binding, output)
                if not inner and generated is None:
                    target = self.deref(value)
                    shown = target if isinstance(target, _Val) else value
                    self.note(
                        value.file,
                        binding,
                        f"{output} is built from {self.describe(shown)}",
                    )
                    self.host_set_unresolved = True
                for aset in inner:
                    for names, hv, b in _bindings(aset.file, aset.node):
                        if names and len(names) == 1:
                            self.system(names[0], _Val(hv, aset.file, aset.scope), b, output)
                        elif names is None:
                            self.note(aset.file, b, "host with a computed name")
                            self.host_set_unresolved = True

    def haumea_dir(self, v: _Val) -> tuple[Path, list[dir_loaders.Entry] | None] | None:
        """``haumea.lib.load { src = ./dir; … }``: the directory and its entries (None
        when it cannot be read); None when ``v`` is no such call."""
        target = self.deref(v)
        if not isinstance(target, _Val) or target.node.type != "apply_expression":
            return None
        fn = target.node.child_by_field_name("function")
        arg = target.node.child_by_field_name("argument")
        if fn is None or arg is None or not dir_loaders.is_loader(_select_name(target.file, fn)):
            return None
        for rest, src, _ in self.members(
            self.attrsets(_Val(arg, target.file, target.scope)), "src"
        ):
            text = self.path_text(src) if not rest else None
            if text is None or text.startswith(("/", "~")):
                return None
            base = (self.root / target.file.rel).parent / text
            try:
                rel = Path(base.resolve().relative_to(self.resolved_root).as_posix())
            except (OSError, ValueError):
                return None
            return rel, dir_loaders.entries(self.root, rel)
        return None

    def loaded_hosts(self, value: _Val, binding: Node, output: str) -> bool:
        """``nixosConfigurations = haumea.lib.load { src = ./hosts; … }``: each entry's
        file returns the host's system (haumea calls it with its inputs)."""
        found = self.haumea_dir(value)
        if found is None:
            return False
        rel_dir, listed = found
        if listed is None:
            self.note(
                value.file, binding, f"{output} loads {rel_dir.as_posix()}, which cannot be read"
            )
            self.host_set_unresolved = True
            return True
        for entry in listed:
            file = self.load(entry.definition) if entry.definition is not None else None
            top = _top(file.root) if file is not None else None
            if file is None or top is None:
                self.note(
                    value.file,
                    binding,
                    f"host {entry.name}: {rel_dir.as_posix()}/{entry.name}/ has no default.nix",
                )
                self.host(entry.name, _OUTPUTS[output][0]).resolved = False
                continue
            if top.type == "function_expression":  # { inputs, ... }: nixosSystem { … }
                body = top.child_by_field_name("body")
                top = body if body is not None else top
            self.system(entry.name, _Val(top, file, {}), binding, output)
        return True

    def gen_attrs(self, v: _Val) -> list[tuple[str, _Val]] | None:
        """``lib.genAttrs [ "a" "b" ] f``: each literal name with ``f name``."""
        target = self.deref(v)
        if not isinstance(target, _Val) or target.node.type != "apply_expression":
            return None
        args: list[_Val] = []
        head = target.node
        while head is not None and head.type == "apply_expression":
            arg = head.child_by_field_name("argument")
            if arg is not None:
                args.insert(0, _Val(arg, target.file, target.scope))
            head = head.child_by_field_name("function")
        fname = _select_name(target.file, head) if head is not None else None
        short = fname.split(".")[-1] if fname is not None else ""
        if short == "mapAttrs" and len(args) == 2:
            return self.map_attrs(args[0], args[1])
        if short == "listToAttrs" and len(args) == 1:
            return self.list_to_attrs(args[0])
        if short != "genAttrs" or len(args) != 2:
            return None
        listed = self.dir_names(args[0])
        if listed is not None:
            pairs = [(n, self._bind_str(args[1], n)) for n in listed]
            return None if any(b is None for _, b in pairs) else pairs  # type: ignore[return-value]
        elements, unknown = self.list_elements(args[0])
        names = [self.string_value(e) for e in elements]
        if unknown or not elements:
            return None
        out: list[tuple[str, _Val]] = []
        for element, name in zip(elements, names, strict=True):
            bound = self._bind(args[1], element, 0)
            if name is None or bound is None:
                return None
            out.append((name, bound))
        return out

    def dir_names(self, v: _Val) -> list[str] | None:
        """Names an expression built on ``builtins.readDir ./dir`` stands for: the
        sub-directories when it filters on ``"directory"``, else also ``*.nix`` stems."""
        target = self.deref(v)
        if not isinstance(target, _Val):
            return None
        stack = [target.node]
        while stack:
            node = stack.pop()
            stack.extend(node.named_children)
            if node.type != "apply_expression":
                continue
            fn = node.child_by_field_name("function")
            arg = node.child_by_field_name("argument")
            if (
                fn is None
                or arg is None
                or _select_name(target.file, fn)
                not in (
                    "readDir",
                    "builtins.readDir",
                )
            ):
                continue
            text = self.path_text(_Val(arg, target.file, target.scope))
            if text is None or text.startswith(("/", "~")):
                return None
            base = (self.root / target.file.rel).parent / text
            try:
                base.resolve().relative_to(self.resolved_root)
                entries = sorted(base.iterdir())
            except (OSError, ValueError):
                return None
            whole = target.file.text(target.node)
            dirs = [e.name for e in entries if e.is_dir() and not e.name.startswith(".")]
            stems = [
                e.name[:-4]
                for e in entries
                if e.is_file() and e.name.endswith(".nix") and e.name != "default.nix"
            ]
            return dirs if '"directory"' in whole else dirs + stems
        return None

    def _bind_str(self, fn: _Val, value: str) -> _Val | None:
        """``fn`` applied to the string ``value`` (its first parameter bound)."""
        fn_d = self.deref(fn)
        if not isinstance(fn_d, _Val) or fn_d.node.type != "function_expression":
            return None
        body = fn_d.node.child_by_field_name("body")
        universal = fn_d.node.child_by_field_name("universal")
        if body is None or universal is None:
            return None
        scope: dict[str, _Val | str | None] = dict(fn_d.scope)
        scope[fn_d.file.text(universal)] = value
        return _Val(body, fn_d.file, scope)

    def map_attrs(self, fn: _Val, attrs: _Val) -> list[tuple[str, _Val]] | None:
        """``mapAttrs (name: value: …) <set, readDir or haumea load>``: each name with the
        body; a haumea entry's files are the host's modules when the body uses ``value``."""
        loaded = self.haumea_dir(attrs)
        files: dict[str, tuple[Path, ...]] = {}
        if loaded is not None:
            if loaded[1] is None:
                return None
            files = {e.name: e.files for e in loaded[1]}
        names = list(files) if loaded is not None else self.dir_names(attrs)
        if names is None:
            sets = self.attrsets(attrs)
            if not sets:
                return None
            names = [n[0] for a in sets for n, _, _ in _bindings(a.file, a.node) if n]
        out = []
        for name in names:
            bound = self._bind_str(fn, name)
            inner = self.deref(bound) if bound is not None else None
            if isinstance(inner, _Val) and inner.node.type == "function_expression":
                body = inner.node.child_by_field_name("body")
                scope = self.shadow(inner)
                param = inner.node.child_by_field_name("universal")
                if name in files and param is not None:  # `value`: the entry's own files
                    scope[inner.file.text(param)] = _ENTRY + name
                    self.entry_files[name] = files[name]
                inner = _Val(body, inner.file, scope) if body else None
            if not isinstance(inner, _Val):
                return None
            out.append((name, inner))
        return out

    def list_to_attrs(self, v: _Val) -> list[tuple[str, _Val]] | None:
        """``listToAttrs (map f [ … ])`` or a literal list of ``{ name; value; }``."""
        target = self.deref(v)
        if not isinstance(target, _Val):
            return None
        items: list[_Val] = []
        node = target.node
        if node.type == "apply_expression":
            inner = node.child_by_field_name("function")
            arg = node.child_by_field_name("argument")
            fn = inner.child_by_field_name("argument") if inner is not None else None
            head = inner.child_by_field_name("function") if inner is not None else None
            if head is None or fn is None or arg is None:
                return None
            if _select_name(target.file, head) not in ("map", "builtins.map", "lib.map"):
                return None
            elements, unknown = self.list_elements(_Val(arg, target.file, target.scope))
            if unknown:
                return None
            for element in elements:
                bound = self._bind(_Val(fn, target.file, target.scope), element, 0)
                if bound is None:
                    return None
                items.append(bound)
        else:
            elements, unknown = self.list_elements(target)
            if unknown:
                return None
            items = elements
        out = []
        for item in items:
            name: str | None = None
            value: _Val | None = None
            for rest, val, _ in self.members(self.attrsets(item), "name"):
                name = self.string_value(val) if not rest else name
            for rest, val, _ in self.members(self.attrsets(item), "value"):
                value = val if not rest else value
            if name is None or value is None:
                return None
            out.append((name, value))
        return out

    def hive(self, v: _Val) -> None:
        target = self.deref(v)
        if isinstance(target, _Val) and target.node.type == "function_expression":
            body = target.node.child_by_field_name("body")
            if body is not None:
                target = _Val(body, target.file, self.shadow(target))
        if isinstance(target, _Val) and target.node.type == "apply_expression":
            fn = target.node.child_by_field_name("function")
            arg = target.node.child_by_field_name("argument")
            fname = _select_name(target.file, fn) if fn is not None else None
            if fname is not None and fname.endswith("makeHive") and arg is not None:
                own = _select_name(target.file, arg)
                if own is not None and own.startswith("self.") and own.count(".") == 1:
                    for rest, value, _ in self.members(self.flake_outputs, own[5:]):
                        if not rest:
                            self.hive(value)
                    return
                target = self.deref(_Val(arg, target.file, target.scope))
        if isinstance(target, _Val):
            key = (target.file.rel, target.node.start_byte)
            if key in self.hives_done:
                return
            self.hives_done.add(key)
        sets: list[_Val] = []
        parts = self.merge_parts(target) if isinstance(target, _Val) else []
        for part in parts or [v]:
            if part.node.type in ("attrset_expression", "rec_attrset_expression"):
                sets.append(part)
            elif self.maps_configurations(part):
                # `builtins.mapAttrs (n: v: { imports = v._module.args.modules; })
                #  self.nixosConfigurations`: every flake host is a colmena node too
                for acc in self.hosts.values():
                    if "flake" in acc.sources:
                        acc.source("colmena")
            else:
                self.note(part.file, part.node, f"colmena hive is built from {self.describe(part)}")
                self.host_set_unresolved = True
        if not sets:
            return
        self.definition_files.update(s.file.rel for s in sets)
        defaults: list[_Val] = []
        nodes: list[tuple[list[str], _Val, Node]] = []
        for aset in sets:
            for names, value, binding in _bindings(aset.file, aset.node):
                val = _Val(value, aset.file, aset.scope)
                if names is None:
                    self.note(aset.file, binding, "colmena node with a computed name")
                    continue
                if names[0] == "meta":
                    continue
                if names[0] == "defaults":
                    if len(names) == 1:
                        defaults.append(val)
                    else:
                        defaults.append(_Val(binding, aset.file, aset.scope))
                    continue
                nodes.append((names, val, binding))
        for names, val, binding in nodes:
            acc = self.host(names[0], "colmena")
            if len(names) == 1:
                self.module(val, acc, True)
            else:
                self.hive_node_part(names, val, binding)
        for name in dict.fromkeys(n[0][0] for n in nodes):
            acc = self.hosts[name]
            for d in defaults:
                if d.node.type == "binding":
                    acc.inline.append((d.file.rel, d.node.start_byte, d.node.end_byte))
                    acc.modules.add(d.file.rel)
                    value = d.node.child_by_field_name("expression")
                    path = d.node.child_by_field_name("attrpath")
                    names2 = _attr_names(d.file, path) if path is not None else None
                    if value is not None and names2 is not None:
                        self.binding(names2[1:], _Val(value, d.file, d.scope), acc, True, 0)
                else:
                    self.module(d, acc, True)

    def hive_node_part(self, names: list[str], val: _Val, binding: Node) -> None:
        """``node.deployment.x = …`` style bindings: inline module content of ``node``."""
        acc = self.host(names[0], "colmena")
        acc.inline.append((val.file.rel, binding.start_byte, binding.end_byte))
        acc.modules.add(val.file.rel)
        self.binding(names[1:], val, acc, True, 0)

    def hive_file(self) -> None:
        rel = Path("hive.nix")
        if rel in self.definition_files:
            return
        file = self.load(rel)
        if file is None:
            return
        self.definition_files.add(rel)
        top = _top(file.root)
        if top is not None:
            self.hive(_Val(top, file, {}))

    def hosts_dir(self) -> None:
        base = self.root / "hosts"
        if not base.is_dir():
            return
        used: set[Path] = set()
        for acc in self.hosts.values():
            used |= acc.modules
        anything = bool(self.hosts)
        candidates: list[tuple[str, Path, bool]] = []
        for entry in sorted(base.iterdir()):
            if not entry.is_dir():
                continue
            name = entry.name
            module = next(
                (
                    Path("hosts") / name / f
                    for f in ("default.nix", "configuration.nix")
                    if (entry / f).is_file()
                ),
                None,
            )
            if module is None or module in used:
                continue
            known = self.hosts.get(name)
            if known is not None and known.resolved:
                continue
            if anything and known is None and not self.host_set_unresolved:
                continue
            candidates.append((name, module, known is None))
        for name, module, _new in candidates:
            self.file_module(module, self.host(name, "hosts-dir"), True)
        for name, module, new in candidates:
            others = (a for n, a in self.hosts.items() if n != name)
            if new and any(module in a.modules for a in others):
                del self.hosts[name]  # imported by another host: a shared module, not a host


def _plain_configuration(d: _Discovery) -> None:
    """A repository that is one ``configuration.nix`` (``/etc/nixos`` kept in git): one
    host, named by the ``networking.hostName`` literal it sets, else ``nixos``."""
    if d.hosts or d.host_set_unresolved or (d.root / "flake.nix").is_file():
        return
    rel = Path("configuration.nix")
    file = d.load(rel)
    if file is None:
        return
    tree = cst.NixTree(root=file.root, source=file.source, has_errors=False)
    names = {
        d.string_value(_Val(b.value, file, {}))
        for b in cst.bindings(tree)
        if [*b.attrset_path, *b.attrpath] == ["networking", "hostName"]
    }
    name = names.pop() if len(names) == 1 and None not in names else None
    if name is None:
        d.unresolved.append(
            (rel, "line 1: no single networking.hostName literal; host named nixos")
        )
    d.file_module(rel, d.host(name or "nixos", "configuration.nix"), True)


def discover(root: Path) -> Inventory:
    """The hosts of the repository at ``root`` and the files each one uses."""
    d = _Discovery(root)
    d.flake()
    d.hive_file()
    d.hosts_dir()
    _plain_configuration(d)
    hosts = {
        name: Host(
            name=name,
            entry_modules=list(acc.entry),
            modules=frozenset(acc.modules),
            source="+".join(acc.sources),
            inline=tuple(acc.inline),
            files=frozenset(acc.files),
        )
        for name, acc in sorted(d.hosts.items())
    }

    def order(item: tuple[Path, str]) -> tuple[str, int, str]:
        line = item[1].split(":", 1)[0].removeprefix("line ")
        return (item[0].as_posix(), int(line) if line.isdigit() else 0, item[1])

    return Inventory(
        root=root,
        hosts=hosts,
        unresolved=sorted(d.unresolved, key=order),
        external=sorted(d.external, key=order),
    )
