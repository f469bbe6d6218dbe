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

from secretkit.lazy_re import lazy
from secretkit.nix import cst
from secretkit.nix.inline import node_at_span

Path = tuple[str, ...]


class HostValues:
    """What the modules of each host set, read on demand: a module is parsed only when
    a question names an option its bytes can name (its last attribute name is in them),
    so asking about one option of a large configuration reads the few modules that
    mention it, not all of them (the hook asks once per blocked commit)."""

    def __init__(
        self,
        sources: Mapping[str, bytes],
        host_modules: Mapping[str, Sequence[str]],
        parse: Callable[[bytes], cst.Tree],
        inline: Mapping[str, Sequence[Inline]] | None = None,
    ) -> None:
        self.modules: dict[str, tuple[str, ...]] = {
            host: tuple(modules) for host, modules in host_modules.items()
        }
        self.inline = {host: tuple(spans) for host, spans in (inline or {}).items()}
        self._sources = sources
        self._parse = parse
        self._read: dict[str, tuple[dict[Path, str], dict[Path, str], dict[Path, int]]] = {}
        self._trees: dict[str, cst.Tree] = {}
        self._inline: dict[Inline, tuple[dict[Path, str], dict[Path, str]]] = {}

    def _module(self, rel: str) -> tuple[dict[Path, str], dict[Path, str], dict[Path, int]]:
        """(plain values set, plain ``mkOption`` defaults, option → line of its first
        binding) of module ``rel``, parsed once."""
        read = self._read.get(rel)
        if read is None:
            tree = self._tree(rel)
            read = self._read[rel] = (*_module_values(tree), _set_at(tree))
        return read

    def _tree(self, rel: str) -> cst.Tree:
        tree = self._trees.get(rel)
        if tree is None:
            tree = self._trees[rel] = self._parse(self._sources[rel])
        return tree

    def _inline_values(self, unit: Inline) -> tuple[dict[Path, str], dict[Path, str]]:
        """(plain values set, plain defaults) of the inline module at ``unit``."""
        read = self._inline.get(unit)
        if read is None:
            rel, start, end = unit
            tree = self._tree(rel)
            node = node_at_span(tree, start, end)
            top = node if node is not None and node.type in cst.ATTRSETS else None
            read = self._inline[unit] = _module_values(tree, top) if top is not None else ({}, {})
        return read

    def _may_set(self, rel: str, option: Path) -> bool:
        """False when module ``rel`` cannot set ``option``: it is not read, or the
        option's last name, a plain identifier, is nowhere in its bytes (every name a
        module sets is written in it; a quoted name may be escaped: then it is parsed)."""
        data = self._sources.get(rel)
        if data is None:
            return False
        leaf = option[-1].encode() if option else b""
        return _IDENTIFIER.fullmatch(leaf) is None or leaf in data

    def sets(self, module: str, option: Path) -> int | None:
        """The line where ``module`` first sets ``option``, or None."""
        if not self._may_set(module, option):
            return None
        return self._module(module)[2].get(option)

    def set_elsewhere(
        self, hosts: Sequence[str], module: str, options: Sequence[Path]
    ) -> tuple[str, str] | None:
        """``(option, "file:line")`` for the first of ``options`` that a module of
        ``hosts`` other than ``module`` sets already, else None."""
        others = sorted({m for h in hosts for m in self.modules.get(h, ())} - {module})
        for option in options:
            option = option[1:] if option[:1] == ("config",) else option
            for other in others:
                line = self.sets(other, option)
                if line is not None:
                    return ".".join(option), f"{other}:{line}"
        return None

    def _values(self, host: str, path: Path) -> set[str]:
        """The plain strings the modules of ``host`` set ``path`` to, else the plain
        ``mkOption`` defaults they give it."""
        read: list[tuple[dict[Path, str], dict[Path, str]]] = [
            self._module(m)[:2] for m in self.modules.get(host, ()) if self._may_set(m, path)
        ]
        read += [
            self._inline_values(unit)
            for unit in self.inline.get(host, ())
            if self._may_set(unit[0], path)
        ]
        sets = {r[0][path] for r in read if path in r[0]}
        return sets or {r[1][path] for r in read if path in r[1]}

    def value(self, hosts: Sequence[str], path: Path) -> tuple[str | None, str]:
        """(value, "") when every host in ``hosts`` gives ``path`` one and the same
        plain string; else (None, the reason)."""
        dotted = "config." + ".".join(path)
        found: dict[str, str] = {}
        for host in hosts:
            values = self._values(host, path)
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


_IDENTIFIER = lazy(rb"[A-Za-z_][A-Za-z0-9_'-]*")
# an inline module (``{ … }`` in a modules list, a colmena node): its file and span
Inline = tuple[str, int, int]


def _plain(tree: cst.Tree, node: cst.Node) -> str | None:
    return cst.string_value(tree, cst.unwrap(node))


def _module_values(
    tree: cst.Tree, top: cst.Node | None = None
) -> tuple[dict[Path, str], dict[Path, str]]:
    """What the module (the file's, or the attrset ``top`` of an inline one) sets."""
    top = cst.module_body(tree) if top is None else top
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
    inline: Mapping[str, Sequence[Inline]] | None = None,
) -> HostValues:
    """What the modules of each host (``host_modules``: repository paths, their bytes in
    ``sources``; one not in ``sources`` sets nothing; ``inline``: each host's inline
    modules) set, read as it is asked for."""
    return HostValues(sources, host_modules, parse, inline)


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
