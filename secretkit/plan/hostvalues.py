"""Plain string values a host's configuration sets, to resolve computed attribute names.

``users.users.${config.my.username}.initialPassword`` names an option only once
``config.my.username`` is known.  This module collects, per host, every option its
modules set to a plain string literal (and every ``mkOption`` default that is one),
so the plan can resolve such a name — or say exactly why it cannot.  Nothing is
evaluated: a value set through a function, ``mkIf`` or an import is not seen, and
then the name stays unresolved (the caller falls back or refuses, never guesses).

It also keeps where each module sets each option, whatever the value (through
``mkIf`` too): an option a rewrite would add, already set by another module of the
same hosts, would be defined twice (:meth:`HostValues.set_elsewhere`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from secretkit.nix import cst

Path = tuple[str, ...]


@dataclass
class HostValues:
    set_to: dict[str, dict[Path, set[str]]] = field(default_factory=dict)
    defaults: dict[str, dict[Path, set[str]]] = field(default_factory=dict)
    modules: dict[str, tuple[str, ...]] = field(default_factory=dict)  # host → its modules
    set_at: dict[str, dict[Path, int]] = field(default_factory=dict)  # module → option → line

    def set_elsewhere(
        self, hosts: Sequence[str], module: str, options: Sequence[Path]
    ) -> tuple[str, str] | None:
        """``(option, "file:line")`` for the first of ``options`` that a module of
        ``hosts`` other than ``module`` sets already, else None."""
        others = sorted({m for h in hosts for m in self.modules.get(h, ())} - {module})
        for option in options:
            option = option[1:] if option[:1] == ("config",) else option
            for other in others:
                line = self.set_at.get(other, {}).get(option)
                if line is not None:
                    return ".".join(option), f"{other}:{line}"
        return None

    def value(self, hosts: Sequence[str], path: Path) -> tuple[str | None, str]:
        """(value, "") when every host in ``hosts`` gives ``path`` one and the same
        plain string; else (None, the reason)."""
        dotted = "config." + ".".join(path)
        found: dict[str, str] = {}
        for host in hosts:
            values = self.set_to.get(host, {}).get(path) or self.defaults.get(host, {}).get(path)
            if not values:
                return None, f"no module of host {host} sets {dotted} to a plain string"
            if len(values) > 1:
                return None, f"host {host} sets {dotted} to several values"
            found[host] = next(iter(values))
        if len(set(found.values())) > 1:
            shown = ", ".join(f'"{v}" on {h}' for h, v in sorted(found.items()))
            return None, f"{dotted} differs between the hosts that use the module ({shown})"
        if not found:
            return None, f"{dotted} is not set by any host"
        return next(iter(found.values())), ""


def _plain(tree: cst.Tree, node: cst.Node) -> str | None:
    return cst.string_value(tree, cst.unwrap(node))


def _module_values(tree: cst.Tree) -> tuple[dict[Path, str], dict[Path, str]]:
    top = cst.module_body(tree)
    if top is None:
        return {}, {}
    sets: dict[Path, str] = {}
    defaults: dict[Path, str] = {}
    for full, binding in cst.iter_bindings(tree, top):
        value = binding.child_by_field_name("expression")
        if value is None:
            continue
        if full and full[0] == "options":
            call = cst.unwrap(value)
            if call is not None and call.type == "apply_expression":
                function = call.child_by_field_name("function")
                argument = cst.unwrap(call.child_by_field_name("argument"))
                if (
                    function is not None
                    and cst.node_text(tree, function).endswith("mkOption")
                    and argument is not None
                    and argument.type in cst.ATTRSETS
                ):
                    default = cst.find_option(tree, argument, ["default"])
                    text = (
                        _plain(tree, default.child_by_field_name("expression")) if default else None
                    )
                    if text is not None:
                        defaults[tuple(full[1:])] = text
            continue
        text = _plain(tree, value)
        bare = cst.unwrap(value)
        if text is None and bare is not None and bare.type == "variable_expression":
            word = cst.node_text(tree, bare)
            text = word if word in ("true", "false") else None  # booleans, as their text
        if text is None:
            continue
        # a module with a top-level `config` (with or without `options`) sets below it
        path = full[1:] if full[0] == "config" else full
        sets[tuple(path)] = text
    return sets, defaults


def collect(
    sources: Mapping[str, bytes],
    host_modules: Mapping[str, Sequence[str]],
    parse: Callable[[bytes], cst.Tree],
) -> HostValues:
    per_module: dict[str, tuple[dict[Path, str], dict[Path, str]]] = {}
    out = HostValues()
    for host, modules in host_modules.items():
        out.modules[host] = tuple(modules)
        sets = out.set_to.setdefault(host, {})
        defaults = out.defaults.setdefault(host, {})
        for rel in modules:
            if rel not in sources:
                continue
            if rel not in per_module:
                tree = parse(sources[rel])
                per_module[rel] = _module_values(tree)
                out.set_at[rel] = _set_at(tree)
            module_sets, module_defaults = per_module[rel]
            for path, text in module_sets.items():
                sets.setdefault(path, set()).add(text)
            for path, text in module_defaults.items():
                defaults.setdefault(path, set()).add(text)
    return out


def _set_at(tree: cst.Tree) -> dict[Path, int]:
    """Every option a module sets (``config``, ``mkIf`` and ``mkMerge`` seen through)
    and the line of its first binding."""
    from secretkit.nix.sops_refs import option_path  # (not for the hook's advice)

    out: dict[Path, int] = {}
    for binding in cst.bindings(tree):
        path = tuple(option_path(binding))
        if path and path not in out:
            out[path] = tree.source.count(b"\n", 0, binding.start) + 1
    return out
