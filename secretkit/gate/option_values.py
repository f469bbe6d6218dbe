"""What a host's Nix files set an option to, read without evaluating.

:func:`option_bindings` gives each binding of a file with the option it sets: in an
inline module (``modules = [ ({ … }: { … }) ]`` in ``flake.nix``, a colmena node) the
path starts at the module's attrset, as sops_refs reads declarations.
:func:`innermost` picks the one holding an offset.  :func:`values_by_host` gives,
for each host, the values its files give one option: the gate asks it for the
options that decide whether a configuration works
(``services.nginx.user``, ``services.prometheus.alertmanager.checkConfig``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext
    from secretkit.nix.cst import Binding, NixTree, Node

_STRINGS = ("string_expression", "indented_string_expression")
# (what sets an option's value at another priority: the value is still the option's)
_PRIORITY = ("mkDefault", "mkForce", "mkOptionDefault", "mkOverride", "mkBefore", "mkAfter")


def option_bindings(
    ctx: CheckContext, file: str
) -> tuple[NixTree, list[tuple[Binding, list[str]]]]:
    """``file``'s tree and each of its bindings with the option path it sets."""
    from secretkit.nix import cst
    from secretkit.nix.sops_refs import InlineModules, attrset_spans, option_path

    data = ctx.read(file) or b""
    tree = cst.parse(data)
    spans = attrset_spans(data, ctx.inventory().inline_spans().get(file, ()))
    inline = InlineModules(spans) if spans else None
    return tree, [
        (binding, option_path(binding, inline.base(binding) if inline is not None else 0))
        for binding in cst.bindings(tree)
    ]


def innermost(
    bindings: list[tuple[Binding, list[str]]], offset: int
) -> tuple[Binding, list[str]] | None:
    """The binding of :func:`option_bindings` that holds ``offset`` most closely, with
    its option path; None when none does."""
    inner = [(b, p) for b, p in bindings if b.start <= offset < b.end]
    return min(inner, key=lambda bp: bp[0].end - bp[0].start) if inner else None


def values_by_host(ctx: CheckContext, option: list[str], *, at: str) -> dict[str, set[str | None]]:
    """For each host using ``at`` (key ``""``: the whole repository, where no host is
    known), the values its ``.nix`` files give ``option``: a plain string's text, the
    text of anything else as written (``false``), None for what cannot be told (an
    interpolated string, an expression, a ``mkIf``).  An empty set: not set there (the
    module's default)."""
    inventory = ctx.inventory()
    hosts = sorted(inventory.hosts_of_file(at)) or [""]
    out: dict[str, set[str | None]] = {host: set() for host in hosts}
    needles = [part.encode() for part in option]
    for file in ctx.files():
        data = ctx.read(file) if file.endswith(".nix") else None
        if data is None or not all(needle in data for needle in needles):
            continue
        tree, bindings = option_bindings(ctx, file)
        for binding, path in bindings:
            if path != option:
                continue
            value = _value(tree, binding.value)
            where = inventory.hosts_at(file, binding.start)
            for host in hosts:
                if not host or host in where:
                    out[host].add(value)
    return out


def _value(tree: NixTree, node: Node | None) -> str | None:
    from secretkit.nix import cst

    node = cst.unwrap(node) if node is not None else None
    while node is not None and node.type == "apply_expression":
        function = node.child_by_field_name("function")
        if function is not None and function.type == "apply_expression":  # mkOverride 50
            function = function.child_by_field_name("function")
        name = str(cst.node_text(tree, function)).rsplit(".", 1)[-1] if function else ""
        if name not in _PRIORITY:
            return None  # (mkIf cond x: x only where cond holds; any other call)
        node = cst.unwrap(node.child_by_field_name("argument"))
    if node is None:
        return None
    if node.type in _STRINGS:
        return plain_string(tree, node)
    if node.type == "variable_expression":
        return str(cst.node_text(tree, node))  # (true, false, null)
    return None


def plain_string(tree: NixTree, node: Node | None) -> str | None:
    """The text of a ``"…"`` or ``''…''`` string without interpolations, else None."""
    from secretkit.nix import cst

    node = cst.unwrap(node) if node is not None else None
    if node is None or node.type not in _STRINGS:
        return None
    value, interpolations = cst.string_parts(tree, node)
    return None if interpolations else str(value)
