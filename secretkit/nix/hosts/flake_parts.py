"""flake-parts: what the module given to ``mkFlake`` adds to the flake's outputs.

``flake-parts.lib.mkFlake { inherit inputs; } <module>``: the module is a set or a
function of the module arguments (``{ withSystem, ... }: { … }``); its ``flake = {…}`` /
``flake.<x> = …`` bindings are outputs of the flake, its ``imports`` more modules (files
of the repository, inline modules, or every file of ``import-tree ./dir``: the
"dendritic" layout).  ``withSystem SYSTEM f`` is ``f`` applied to that system's context,
so the host of ``withSystem "x86_64-linux" ({ pkgs, ... }: nixosSystem {…})`` is the
``nixosSystem`` call.  An import that cannot be followed is noted: a host it may define
is never dropped in silence.  This is the module system of flake-parts layered on the
plain evaluator (:mod:`~secretkit.nix.hosts.evaluator`), which knows nothing of it.
"""

from __future__ import annotations

from pathlib import Path

from secretkit.nix import cst
from secretkit.nix.hosts.evaluator import MAX_DEPTH, Evaluator
from secretkit.nix.hosts.values import Val, applied


class FlakeParts(Evaluator):
    """The evaluator, reading ``mkFlake {…} <module>`` as the outputs the module sets."""

    def attrsets(self, v: Val, depth: int = 0) -> list[Val]:
        if depth > MAX_DEPTH:
            return []
        target = self.deref(v)
        if not isinstance(target, Val):
            return []
        if target.node.type != "apply_expression":
            return super().attrsets(target, depth)
        # flake-parts mkFlake {…} { flake = {…}; }
        arg = target.node.child_by_field_name("argument")
        if arg is None:
            return []
        module = self.deref(Val(arg, target.file, target.scope), depth + 1)
        if isinstance(module, Val) and self.is_import_tree(module):
            return self._tree(module, depth + 1)  # the dendritic layout
        if isinstance(module, Val) and _called(target) == "mkFlake":
            module = self.module_body(module)  # ({ withSystem, ... }: { … })
        else:
            module = Val(arg, target.file, target.scope)
        found: list[Val] = []
        for aset in self.attrsets(module, depth + 1):
            found += self.flake_parts_module(aset, depth + 1)
        return found

    def call(self, v: Val, depth: int) -> Val | None:
        """A call (:meth:`Evaluator.call`), or ``withSystem SYSTEM f``: the body of ``f``
        with its context unknown (the per-system ``pkgs``, ``system``, …)."""
        called = super().call(v, depth)
        return called if called is not None else self._with_system(v)

    def _with_system(self, v: Val) -> Val | None:
        node = v.node
        fn, arg = node.child_by_field_name("function"), node.child_by_field_name("argument")
        if fn is None or arg is None or fn.type != "apply_expression":
            return None
        head = fn.child_by_field_name("function")
        name = cst.dotted_name(v.file, head) if head is not None else None
        # the module argument (or config.withSystem), not a function of the repository
        # that could not be followed
        if name is None or name.split(".")[-1] != "withSystem":
            return None
        if isinstance(v.scope.get(name.split(".")[0]), Val):
            return None
        f = self.deref(Val(arg, v.file, v.scope))
        if not isinstance(f, Val) or f.node.type != "function_expression":
            return None
        return self.module_body(f)

    def module_body(self, module: Val) -> Val:
        """A module written as a function (``{ self, inputs, ... }: { … }``): its body,
        the arguments unknown; any other module as it is."""
        body = module.node.child_by_field_name("body")
        if module.node.type != "function_expression" or body is None:
            return module
        return Val(body, module.file, self.shadow(module))

    def _tree(self, call: Val, depth: int) -> list[Val]:
        """``mkFlake {…} (import-tree ./modules)``: every file there is a flake-parts
        module (the "dendritic" layout: each defines a part of ``flake.…``)."""
        found: list[Val] = []
        for rel in self.tree_files(call) or []:
            found += self._file(rel, depth + 1)
        return found

    def flake_parts_module(self, aset: Val, depth: int = 0) -> list[Val]:
        """What a flake-parts module adds to the flake's outputs: its ``flake = {…}`` /
        ``flake.<x> = …`` bindings, and those of the repository's files it imports
        (``imports = [ ./hosts ];``, each a module or a function returning one)."""
        found: list[Val] = []
        dotted = False
        for names, value, _ in cst.attrset_entries(aset.file, aset.node):
            if names == ["flake"]:
                found += self.attrsets(Val(value, aset.file, aset.scope), depth + 1)
            elif names and names[0] == "flake":
                dotted = True
            elif names == ["imports"] and depth < MAX_DEPTH:
                imports = Val(value, aset.file, aset.scope)
                elements, unread = self.list_elements(imports, depth + 1)
                for element in elements:
                    found += self._import(element, depth + 1)
                for part in unread:
                    what = self.describe(part)
                    self.note(part.file, part.node, f"flake-parts imports built from {what}")
        if dotted:  # flake.nixosConfigurations = …; flake.colmena = …;
            found.append(Val(aset.node, aset.file, aset.scope, ("flake",)))
        return found

    def _import(self, element: Val, depth: int) -> list[Val]:
        target = self.deref(element)
        if not isinstance(target, Val):
            return []
        kind = target.node.type
        if self.is_import_tree(target):
            return self._tree(target, depth)
        if kind in cst.ATTRSETS or kind == "function_expression":  # an inline module
            found: list[Val] = []
            for aset in self.attrsets(self.module_body(target), depth + 1):
                found += self.flake_parts_module(aset, depth + 1)
            return found
        if kind in ("variable_expression", "select_expression"):
            return []  # a flake input's module (inputs.x.flakeModule): not this repository
        if kind not in ("path_expression", "string_expression"):
            what = self.describe(target)
            self.note(element.file, element.node, f"flake-parts module {what} is not followed")
            return []
        text = self.path_text(target)
        rel = self.resolve_path(target.file, target.node, text) if text is not None else None
        return self._file(rel, depth) if rel is not None else []

    def _file(self, rel: Path, depth: int) -> list[Val]:
        loaded = self.load(rel)
        top = cst.expression_root(loaded) if loaded is not None else None
        if loaded is None or top is None:
            return []
        module = self.module_body(Val(top, loaded, {}))  # { self, inputs, ... }: { … }
        found: list[Val] = []
        for aset in self.attrsets(module, depth + 1):
            found += self.flake_parts_module(aset, depth + 1)
        return found


def _called(call: Val) -> str | None:
    """The last part of the name of the function ``call`` applies (``mkFlake`` for
    ``flake-parts.lib.mkFlake {…} m``)."""
    name, _args = applied(call)
    return name.split(".")[-1] if name is not None else None
