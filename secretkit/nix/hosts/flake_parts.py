"""flake-parts: what the module given to ``mkFlake`` adds to the flake's outputs.

``flake-parts.lib.mkFlake { inherit inputs; } <module>``: the module's ``flake = {…}`` /
``flake.<x> = …`` bindings are outputs of the flake, its ``imports`` more modules (files
of the repository, or every file of ``import-tree ./dir``: the "dendritic" layout).
This is the module system of flake-parts layered on the plain evaluator
(:mod:`~secretkit.nix.hosts.evaluator`), which knows nothing of it.
"""

from __future__ import annotations

from pathlib import Path

from secretkit.nix import cst
from secretkit.nix.hosts.evaluator import MAX_DEPTH, Evaluator, Val


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
        found: list[Val] = []
        for aset in self.attrsets(Val(arg, target.file, target.scope), depth + 1):
            found += self.flake_parts_module(aset, depth + 1)
        return found

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
                elements, _ = self.list_elements(Val(value, aset.file, aset.scope), depth + 1)
                for element in elements:
                    found += self._import(element, depth + 1)
        if dotted:  # flake.nixosConfigurations = …; flake.colmena = …;
            found.append(Val(aset.node, aset.file, aset.scope, ("flake",)))
        return found

    def _import(self, element: Val, depth: int) -> list[Val]:
        target = self.deref(element)
        if isinstance(target, Val) and self.is_import_tree(target):
            return self._tree(target, depth)
        if not isinstance(target, Val) or target.node.type not in (
            "path_expression",
            "string_expression",
        ):
            return []  # a flake input's module (inputs.x.flakeModule): not this repository
        text = self.path_text(target)
        rel = self.resolve_path(target.file, target.node, text) if text is not None else None
        return self._file(rel, depth) if rel is not None else []

    def _file(self, rel: Path, depth: int) -> list[Val]:
        loaded = self.load(rel)
        top = cst.expression_root(loaded) if loaded is not None else None
        if loaded is None or top is None:
            return []
        module = Val(top, loaded, {})
        if top.type == "function_expression":  # { self, inputs, ... }: { … }
            body = top.child_by_field_name("body")
            if body is None:
                return []
            module = Val(body, loaded, self.shadow(module))
        found: list[Val] = []
        for aset in self.attrsets(module, depth + 1):
            found += self.flake_parts_module(aset, depth + 1)
        return found
