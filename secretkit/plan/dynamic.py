"""Attribute paths through computed names: ``users.users.${config.my.user}.password``.

A computed part is resolved from a ``let`` of the module or from what the module's
hosts set (:mod:`secretkit.plan.hostvalues`).  When it cannot be, but the catalogue
routes the option the same whatever the name is (``users.users.*``), the path keeps
the expression's text in its place: the edits are spans of the source, so the name
stays computed in the rewritten code and the route is right for every value.
"""

from __future__ import annotations

from collections.abc import Sequence

from secretkit.nix import catalogue, cst, emit
from secretkit.plan.hostvalues import HostValues


def _let_value(tree: cst.Tree, node: cst.Node, name: str) -> str | None:
    """The plain string ``name`` is bound to in a ``let`` around ``node``."""
    for value in cst.let_bound(tree, node, name):
        text = cst.string_value(tree, cst.unwrap(value))
        if text is not None:
            return text
    return None


def _resolver(
    tree: cst.Tree,
    hosts: Sequence[str],
    host_values: HostValues | None,
    reasons: list[str],
    stand_in: str | None,
) -> cst.Resolver:
    """Resolve ``${name}`` (a let binding) and ``${config.a.b}`` (what the module's hosts
    set); with ``stand_in``, an unresolved part becomes ``stand_in + its text``."""

    def resolve(node: cst.Node) -> str | None:
        expr = cst.unwrap(node)
        text = cst.node_text(tree, expr) if expr is not None else "?"
        if expr is not None and expr.type == "variable_expression":
            value = _let_value(tree, expr, text)
            if value is not None:
                return value
            reasons.append(f"`{text}` is not bound to a plain string in a `let` of the module")
        elif expr is not None and expr.type == "select_expression" and text.startswith("config."):
            names = text.split(".")[1:]
            if host_values is not None and all(emit.attr(n) == n for n in names):
                value, why = host_values.value(hosts, tuple(names))
                if value is not None:
                    return value
                reasons.append(why)
            else:
                reasons.append(f"`{text}` is not a plain option path")
        else:
            reasons.append(f"`{_short(text)}` is neither a `let` name nor a config option")
        return None if stand_in is None else stand_in + text

    return resolve


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:39] + "…"


def dynamic_path(
    tree: cst.Tree,
    top: cst.Node,
    hosts: Sequence[str],
    node: cst.Node,
    host_values: HostValues | None,
    reasons: list[str],
) -> list[str] | None:
    """The path of ``node`` with computed names resolved; when they cannot be, but the
    catalogue routes the option alike whatever they are (``users.users.*``), the path
    with the expression text in their place.  None otherwise."""
    path = cst.path_below(tree, node, top, _resolver(tree, hosts, host_values, reasons, None))
    if path is not None:
        return path
    one = cst.path_below(tree, node, top, _resolver(tree, hosts, host_values, [], "\x00a:"))
    two = cst.path_below(tree, node, top, _resolver(tree, hosts, host_values, [], "\x00b:"))
    if one is None or two is None:
        return None
    first, second = catalogue.lookup(one), catalogue.lookup(two)
    if first is None or second is None or first.key != second.key:
        return None
    return [p.removeprefix("\x00a:") for p in one]
