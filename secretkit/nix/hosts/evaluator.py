"""The partial Nix evaluator of host discovery: values, scopes, light dereferencing.

Nothing is evaluated for real: an expression is followed through parentheses,
``let``, known variables, ``import <path>`` and calls of functions written in the
repository, as far as that can be read from the tree (:mod:`secretkit.nix.cst`).
What cannot be followed is left for the caller to note (:meth:`Files.note`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from secretkit.nix import cst
from secretkit.nix.cst import Node
from secretkit.nix.hosts import conditions
from secretkit.nix.hosts.files import File, Files
from secretkit.nix.hosts.values import Val, applied, call_parts

MAX_DEPTH = 60
MAX_LEVEL = 120  # nested expressions followed at once (keeps well inside the Python stack)
ENTRY = "\x00haumea entry "  # a mapAttrs value bound to a haumea entry (never a string)


_SELF_HEADS = ("self", "config", "inputs")  # (what `self.…` paths start with: _self_path)


class Evaluator(Files):
    """Follows expressions in the files of the repository at ``root``."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.level = 0  # nesting of deref/follow calls, bounded by MAX_LEVEL
        # the flake's outputs as attrsets (flake-parts modules' `flake.…` included):
        # what `self.<path>` names (set once flake.nix's outputs are read)
        self.flake_outputs: list[Val] = []

    # -- values --------------------------------------------------------------------
    def path_text(self, v: Val) -> str | None:
        """The text of a path literal, with ``${name}`` parts substituted when known."""
        node, file = v.node, v.file
        if node.type == "path_expression":
            parts: list[str] = []
            for child in node.named_children:
                if child.type == "path_fragment":
                    parts.append(file.text(child))
                elif child.type == "interpolation":
                    inner = next(iter(child.named_children), None)
                    value = self.string_value(Val(inner, file, v.scope)) if inner else None
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
                    target = self.deref(Val(inner, file, v.scope))
                    if isinstance(target, Val) and target.node.type == "path_expression":
                        return self.path_text(target)
            return self._anchored_text(v, kids)
        if node.type == "binary_expression":
            return self._joined_path(v)
        return None

    def joined(self, v: Val) -> bool:
        """Whether ``v`` is ``path + …`` (:meth:`path_text` reads it as one path); the
        path may be a name bound to one (``secretsDir + "/x.nix"``) or the flake's
        ``self`` (``self + /share/nixos/server``)."""
        node: Node | None = v.node
        while node is not None and node.type == "binary_expression":
            op = node.child_by_field_name("operator")
            if op is None or v.file.text(op) != "+":
                return False
            node = node.child_by_field_name("left")
        if node is None or node is v.node:
            return False
        if node.type in ("variable_expression", "select_expression"):
            # a name bound to a path, or the flake's own source (self + /share/x)
            return self._anchor(Val(node, v.file, v.scope)) is not None
        return bool(node.type == "path_expression")

    def _joined_path(self, v: Val) -> str | None:
        """``./hosts + "/${name}" + /configuration.nix``: a path (a literal, or a name
        bound to one) with strings (their ``${name}`` parts known) and absolute path
        literals appended, as Nix joins them (``path + "/x"`` and ``path + /x`` both
        append ``/x``), relative to ``v``'s file."""
        absolute = self._joined_absolute(v)
        if absolute is None:
            return None
        return os.path.relpath(absolute, os.path.normpath(self.root / v.file.rel.parent))

    def _joined_absolute(self, v: Val) -> str | None:
        node, file = v.node, v.file
        op = node.child_by_field_name("operator")
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if op is None or file.text(op) != "+" or left is None or right is None:
            return None
        if left.type == "binary_expression":
            head = self._joined_absolute(Val(left, file, v.scope))
        elif left.type in ("path_expression", "variable_expression", "select_expression"):
            head = self._anchor(Val(left, file, v.scope))
        else:
            head = None
        tail: str | None = None
        if right.type == "path_expression":
            tail = self.path_text(Val(right, file, v.scope))
        elif right.type == "string_expression":
            tail = self._string_text(Val(right, file, v.scope))
        if head is None or tail is None or not tail.startswith("/") or ".." in tail.split("/"):
            return None
        return head.rstrip("/") + tail

    def _string_text(self, v: Val) -> str | None:
        """A string literal's text with each ``${name}`` replaced by its known string
        value (None when one is not known)."""
        parts: list[str] = []
        for child in v.node.named_children:
            if child.type == "string_fragment":
                parts.append(v.file.text(child))
            elif child.type == "interpolation":
                inner = next(iter(child.named_children), None)
                value = self.string_value(Val(inner, v.file, v.scope)) if inner else None
                if value is None:
                    return None
                parts.append(value)
            elif child.type != "comment":
                return None
        return "".join(parts)

    def _anchored_text(self, v: Val, kids: list[Node]) -> str | None:
        """``"${self}/system/x.nix"``, ``"${mod}/x.nix"`` (``mod`` such a string or a
        path): the path relative to ``v``'s file, when the string starts with one
        interpolation naming a directory of the repository and the rest is text."""
        if len(kids) < 2 or kids[0].type != "interpolation":
            return None
        if any(k.type != "string_fragment" for k in kids[1:]):
            return None
        rest = "".join(v.file.text(k) for k in kids[1:])
        inner = next((c for c in kids[0].named_children if c.type != "comment"), None)
        anchor = self._anchor(Val(inner, v.file, v.scope)) if inner is not None else None
        if anchor is None or not rest.startswith("/"):
            return None
        here = os.path.normpath(self.root / v.file.rel.parent)
        return os.path.relpath(os.path.normpath(f"{anchor}{rest}"), here)

    def _anchor(self, v: Val) -> str | None:
        """The absolute directory (under the repository) an interpolated path starts
        at: the flake's ``self`` (its source root: ``"${self}"`` is the flake's
        outPath; ``inputs.self`` too), a path literal, or a string anchored the same way."""
        if v.node.type in ("variable_expression", "identifier", "select_expression"):
            name = cst.dotted_name(v.file, v.node) or ""
            own = "self" if name == "self" else "inputs" if name == "inputs.self" else None
            if own is not None and not isinstance(v.scope.get(own), Val):
                return os.path.normpath(self.root)  # the flake's source root
        target = self.deref(v)
        if not isinstance(target, Val):
            return None
        text = self.path_text(target)
        if text is None or text.startswith(("/", "~")):
            return None
        return os.path.normpath(self.root / target.file.rel.parent / text)

    def string_value(self, v: Val) -> str | None:
        target = self.deref(v)
        if isinstance(target, str):
            return target
        return None if target is None else cst.string_value(target.file, target.node)

    # -- light dereferencing -------------------------------------------------------
    def deref(self, v: Val, depth: int = 0) -> Val | str | None:
        """Follow parentheses, let, known variables, ``import <path>`` and calls of
        let-bound functions; return the expression reached (or a bound string)."""
        if self.level > MAX_LEVEL:
            self.note(v.file, v.node, "expression nested too deeply to follow")
            return None
        self.level += 1
        try:
            return self._deref(v, depth)
        finally:
            self.level -= 1

    def _deref(self, v: Val, depth: int) -> Val | str | None:
        node = v.node
        while depth < MAX_DEPTH:
            depth += 1
            kind = node.type
            if kind == "parenthesized_expression":
                inner = node.child_by_field_name("expression") or next(
                    iter(node.named_children), None
                )
                if inner is None:
                    return None
                v = Val(inner, v.file, v.scope)
                node = inner
            elif kind == "let_expression":
                scope: dict[str, Val | str | None] = dict(v.scope)
                for names, value, _ in cst.attrset_entries(v.file, node):
                    if names and len(names) == 1:
                        scope[names[0]] = Val(value, v.file, scope)
                self._inherit_from(v.file, node, scope)
                body = node.child_by_field_name("body")
                if body is None:
                    return None
                v = Val(body, v.file, scope)
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
            elif kind == "select_expression":  # self.lib.mkHost: the flake's own output
                found = self.own_output(v)
                if found is None:  # host.modules: an attribute of a set a name is bound to
                    found = self._attribute(v, depth)
                if found is None:
                    return v
                v, node = found, found.node
            elif kind == "if_expression":  # `if darwin then … else …`, when it is known
                taken = conditions.branch(v)
                if taken is None:
                    return v
                v, node = taken, taken.node
            elif kind == "with_expression":
                body = node.child_by_field_name("body")
                env = node.child_by_field_name("environment")
                if body is None or env is None:
                    return v
                with_names = self.own_outputs_below(Val(env, v.file, v.scope))
                v = Val(body, v.file, {**with_names, **v.scope})  # (lexical names first)
                node = body
            else:
                return v
        return None

    def _self_path(self, v: Val) -> list[str] | None:
        """``self.a.b`` (``self`` the flake itself, not a bound name) → ``["a", "b"]``;
        flake-parts' ``config.flake.a.b`` (its module's ``config``) too."""
        node = v.node
        expr = node.child_by_field_name("expression") if node.type == "select_expression" else None
        head = v.file.text(expr) if expr is not None else ""
        if expr is None or expr.type != "variable_expression" or head not in _SELF_HEADS:
            return None
        if isinstance(v.scope.get(head), Val) or not self.flake_outputs:
            return None
        attrpath = node.child_by_field_name("attrpath")
        names = cst.attr_names(v.file, attrpath) if attrpath is not None else []
        if head == "config":  # (a NixOS config has no `flake`: this is flake-parts')
            if names[:1] != ["flake"]:
                return None
            names = names[1:]
        elif head == "inputs" and names[:1] == ["self"]:  # (`inputs.self`: the flake too)
            names = names[1:]
        elif head == "inputs":
            return None
        return names if names and all(n and "${" not in n for n in names) else None

    def _attribute(self, v: Val, depth: int) -> Val | None:
        """What ``x.a.b`` is when ``x`` is bound to an attrset this reading follows (a
        host set's value: ``host.modules``), else None.  Only a name bound in scope is
        followed (``pkgs.x``, ``lib.x`` are not the repository's)."""
        node = v.node
        expr = node.child_by_field_name("expression")
        attrpath = node.child_by_field_name("attrpath")
        if expr is None or attrpath is None or expr.type != "variable_expression":
            return None
        if not isinstance(v.scope.get(v.file.text(expr)), Val):
            return None
        names = cst.attr_names(v.file, attrpath)
        if not names or not all(n and "${" not in n for n in names):
            return None
        base = self.deref(Val(expr, v.file, v.scope), depth)
        if not isinstance(base, Val):
            return None
        return self._member(self.attrsets(base), names)

    def own_output(self, v: Val) -> Val | None:
        """What ``self.<path>`` is among the flake's outputs (``flake.lib.mkHost = …`` in
        any flake-parts module), else None."""
        return self._member(self.flake_outputs, self._self_path(v))

    def _member(self, sets: list[Val], want: list[str] | None) -> Val | None:
        """The value at the attribute path ``want`` of the attrsets ``sets``, else None."""
        while want:
            name = want[0]
            candidates = [(rest, value) for rest, value, _ in self.members(sets, name)]
            want = want[1:]
            exact = [value for rest, value in candidates if rest == want]
            if exact:
                return exact[0]
            if not want and candidates:
                # defined piecewise (`server.imports = …;`): the set seen through `server`
                return next(
                    Val(aset.node, aset.file, aset.scope, (*aset.prefix, name))
                    for aset in sets
                    if any(True for _ in self.members([aset], name))
                )
            deeper = [
                (r, val) for r, val in candidates if r == want[: len(r)] and len(r) < len(want)
            ]
            if not deeper:
                return None
            rest, value = deeper[0]
            sets, want = self.attrsets(value), want[len(rest) :]
        return None

    def own_outputs_below(self, env: Val) -> dict[str, Val | str | None]:
        """``with self.nixosModules;``: the names that output's attributes bind, in every
        flake-parts module (``flake.nixosModules.base.imports = …`` binds ``base`` to
        that attrset seen through ``nixosModules.base``); none for anything else."""
        want = self._self_path(env)
        if not want:
            return {}
        names: dict[str, Val | str | None] = {}
        for aset in self.flake_outputs:
            cut = len(aset.prefix)
            for entry, value, _ in cst.attrset_entries(aset.file, aset.node):
                if not entry or tuple(entry[:cut]) != aset.prefix:
                    continue
                rest = entry[cut:]
                if rest[: len(want)] != want:
                    continue
                below = rest[len(want) :]
                if len(below) == 1:
                    names.setdefault(below[0], Val(value, aset.file, aset.scope))
                elif len(below) > 1:  # base.imports = …: `base` is what the set says of it
                    seen = (*aset.prefix, *want, below[0])
                    names.setdefault(below[0], Val(aset.node, aset.file, aset.scope, seen))
                elif value.type in cst.ATTRSETS:  # nixosModules = { a = …; };
                    for inner, val, _ in cst.attrset_entries(aset.file, value):
                        if inner and len(inner) == 1:
                            names.setdefault(inner[0], Val(val, aset.file, aset.scope))
        return names

    def tree_files(self, v: Val) -> list[Path] | None:
        """The modules of ``import-tree <dir>`` (``v`` the call): every ``.nix`` file
        below ``dir`` but paths with a part starting with ``_`` (import-tree's
        convention); None when the directory cannot be read in the repository."""
        arg = v.node.child_by_field_name("argument")
        text = self.path_text(Val(arg, v.file, v.scope)) if arg is not None else None
        if text is None or text.startswith(("/", "~")):
            return None
        base = (self.root / v.file.rel).parent / text
        try:
            rel_base = base.resolve().relative_to(self.resolved_root)
            found = sorted(base.resolve().rglob("*.nix"))
        except (OSError, ValueError):
            return None
        files = []
        for path in found:
            rel = Path(path.relative_to(self.resolved_root).as_posix())
            if not any(part.startswith("_") for part in rel.relative_to(rel_base).parts):
                files.append(rel)
        return files

    def is_import_tree(self, v: Val) -> bool:
        node = v.node
        fn = node.child_by_field_name("function") if node.type == "apply_expression" else None
        name = cst.dotted_name(v.file, fn) if fn is not None else None
        return name is not None and name.split(".")[-1] == "import-tree"

    def _inherit_from(self, file: File, node: Node, scope: dict[str, Val | str | None]) -> None:
        """``inherit (import ./system) laptop;`` in a ``let``: each name bound to that
        attribute of the expression's attrset, when it can be read (else unknown)."""
        for source, names in cst.inherited_from(file, node):
            sets = self.attrsets(Val(source, file, scope))
            for name in names:
                scope[name] = next(
                    (value for rest, value, _ in self.members(sets, name) if not rest), None
                )

    def call(self, v: Val, depth: int) -> Val | None:
        """``import ./f.nix`` (possibly applied further) or a let-bound function applied to
        arguments: the body with the parameters bound.  None when not followable."""
        parts = call_parts(v)
        if parts is None:
            return None
        head, args = parts
        name = cst.dotted_name(v.file, head)
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
            top = cst.expression_root(imported) if imported is not None else None
            if imported is None or top is None:
                return None
            fn_val: Val | str | None = Val(top, imported, {})
            args = args[1:]
        else:
            fn_val = self.deref(Val(head, v.file, v.scope), depth + 1)
        for arg in args:
            fn_val = self.bind(fn_val, arg, depth)
            if fn_val is None:
                return None
        return fn_val if isinstance(fn_val, Val) else None

    def bind(self, fn: Val | str | None, arg: Val, depth: int) -> Val | None:
        if fn is None or isinstance(fn, str):
            return None
        fn_d = self.deref(fn, depth + 1)
        if fn_d is None or isinstance(fn_d, str) or fn_d.node.type != "function_expression":
            return None
        node = fn_d.node
        body = node.child_by_field_name("body")
        if body is None:
            return None
        scope: dict[str, Val | str | None] = dict(fn_d.scope)
        universal = node.child_by_field_name("universal")
        formals = node.child_by_field_name("formals")
        value = self.string_value(arg)
        if universal is not None:
            scope[fn_d.file.text(universal)] = value if value is not None else arg
        if formals is not None:
            given: dict[str, Val] = {}
            target = self.deref(arg, depth + 1)
            if isinstance(target, Val) and target.node.type in (
                "attrset_expression",
                "rec_attrset_expression",
            ):
                for names, val, _ in cst.attrset_entries(target.file, target.node):
                    if names and len(names) == 1:
                        given[names[0]] = Val(val, target.file, target.scope)
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
                    scope[fname] = Val(default, fn_d.file, scope) if default else None
        return Val(body, fn_d.file, scope)

    def attrsets(self, v: Val, depth: int = 0) -> list[Val]:
        """The attribute sets an expression is made of (``//`` merges; flake-parts'
        ``mkFlake`` in :class:`~secretkit.nix.hosts.flake_parts.FlakeParts`)."""
        if depth > MAX_DEPTH:
            return []
        target = self.deref(v)
        if target is None or isinstance(target, str):
            return []
        node = target.node
        if node.type == "rec_attrset_expression":  # its members see its own names
            scope: dict[str, Val | str | None] = dict(target.scope)
            for names, value, _ in cst.attrset_entries(target.file, node):
                if names and len(names) == 1:
                    scope[names[0]] = Val(value, target.file, scope)
            return [Val(node, target.file, scope, target.prefix)]
        if node.type == "attrset_expression":
            return [target]
        if node.type == "binary_expression":
            op = node.child_by_field_name("operator")
            if op is not None and target.file.text(op) == "//":
                out: list[Val] = []
                for side in ("left", "right"):
                    child = node.child_by_field_name(side)
                    if child is not None:
                        out += self.attrsets(Val(child, target.file, target.scope), depth + 1)
                return out
        return []

    def merge_parts(self, v: Val, depth: int = 0) -> list[Val]:
        """The operands of ``a // b // …`` (dereferenced); one part for anything else."""
        target = self.deref(v)
        if not isinstance(target, Val) or depth > MAX_DEPTH:
            return [v]
        node = target.node
        op = node.child_by_field_name("operator") if node.type == "binary_expression" else None
        if op is not None and target.file.text(op) == "//":
            out: list[Val] = []
            for side in ("left", "right"):
                child = node.child_by_field_name(side)
                if child is not None:
                    out += self.merge_parts(Val(child, target.file, target.scope), depth + 1)
            return out
        return [target]

    def members(self, sets: list[Val], name: str) -> Iterator[tuple[list[str], Val, Node]]:
        """Bindings ``name.<rest> = value`` (rest may be empty) in the given sets."""
        for aset in sets:
            cut = len(aset.prefix)
            for names, value, binding in cst.attrset_entries(aset.file, aset.node):
                if cut and (names is None or tuple(names[:cut]) != aset.prefix):
                    continue
                names = names[cut:] if names else names
                if names and names[0] == name:
                    yield names[1:], Val(value, aset.file, aset.scope), binding

    def list_elements(self, v: Val, depth: int = 0) -> tuple[list[Val], list[Val]]:
        """(elements, parts that are not lists we can read) of a list, ``a ++ b``, or a
        variable bound to one."""
        target = self.deref(v)
        if not isinstance(target, Val) or depth > MAX_DEPTH:
            return [], [v]
        node = target.node
        if node.type == "list_expression":
            return [Val(e, target.file, target.scope) for e in node.named_children
                    if e.type != "comment"], []  # fmt: skip
        optional = conditions.optional_list(target)  # lib.optionals isLinux [ … ]
        if optional is not None:
            whole, value = optional
            if value is None:
                return [], []
            return self.list_elements(value, depth + 1) if whole else ([value], [])
        op = node.child_by_field_name("operator") if node.type == "binary_expression" else None
        if op is not None and target.file.text(op) == "++":
            elements: list[Val] = []
            unknown: list[Val] = []
            for side in ("left", "right"):
                child = node.child_by_field_name(side)
                if child is not None:
                    found, missing = self.list_elements(
                        Val(child, target.file, target.scope), depth + 1
                    )
                    elements += found
                    unknown += missing
            return elements, unknown
        return [], [target]

    def describe(self, v: Val) -> str:
        node = v.node
        name = cst.dotted_name(v.file, node)
        if name is not None:
            return f"the variable {name}" if "." not in name else f"{name}"
        if node.type == "apply_expression":
            fname, _ = applied(v)
            return f"a call of {fname}" if fname else "a function call"
        if node.type in ("path_expression", "string_expression"):
            names = [
                n
                for child in node.named_children
                if child.type == "interpolation"
                for n in [cst.dotted_name(v.file, next(iter(child.named_children), child))]
                if n is not None
            ]
            if names:
                return f"a path built from {', '.join(dict.fromkeys(names))}"
        return f"a {node.type.replace('_', ' ')}"

    def shadow(self, fn: Val) -> dict[str, Val | str | None]:
        """Scope for a module function body: its parameters are unknown values."""
        scope: dict[str, Val | str | None] = dict(fn.scope)
        universal = fn.node.child_by_field_name("universal")
        if universal is not None:
            scope[fn.file.text(universal)] = None
        formals = fn.node.child_by_field_name("formals")
        for formal in formals.named_children if formals is not None else []:
            ident = formal.child_by_field_name("name") if formal.type == "formal" else None
            if ident is not None:
                scope[fn.file.text(ident)] = None
        return scope
