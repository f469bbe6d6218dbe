"""Module code a host's configuration switches off, read without evaluating.

A module several hosts import often declares its own switch and guards its whole
config with it::

    { config, lib, ... }:
    let cfg = config.my.backup;
    in {
      options.my.backup.enable = lib.mkEnableOption "backups";
      config = lib.mkIf cfg.enable { … };
    }

The module system drops a definition under ``mkIf false`` (NixOS/nixpkgs
lib/modules.nix, ``dischargeProperties``: "mkIf false x yields []"), and
``mkEnableOption`` declares ``default = false`` (lib/options.nix).  So a host none of
whose modules sets ``my.backup.enable`` (nor any attribute above it) does not use the
code in that ``mkIf``: its secrets are not that host's to hold.

Only what the reading knows is decided, and every doubt keeps the host:

* the guard is the module's whole config (``config = mkIf c { … }``, or a part
  ``mkIf c { … }`` of ``config = mkMerge [ … ]``): migrate writes a secret's
  declaration in that attrset, so the declaration and every reference to it are
  switched off together;
* ``c`` is ``config.<path>`` or ``<name>.<rest>`` with ``<name>`` bound by a ``let``
  to ``config.<path>``, and the same file declares that option with
  ``mkEnableOption`` or ``mkOption { default = false; }``;
* a host is off only when discovery followed all of its modules (no gap, no module
  of a flake input but nixpkgs' and the well-known ones that set no option of
  this repository's) and none of them has a binding whose option path is the
  switch's with a value other than ``false``, or above it with a value that is not
  an attrset (``my = cfg;``), or that a name computed at evaluation (``my.${x}``)
  could make it;
* when every host using the code would be off, none is: the values stay with the
  hosts as before (a switch no host turns on is still the user's to turn on).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from secretkit.nix import cst
from secretkit.nix.config_reads import config_option
from secretkit.nix.syntax import call_name, option_path, passed_through


@dataclass(frozen=True)
class Guard:
    """A module's config under ``mkIf <switch>``: the span of the guarded attrset and
    the option path of the switch (declared false by default in the same file)."""

    start: int
    end: int
    switch: tuple[str, ...]


def module_guards(tree: cst.Tree) -> list[Guard]:
    """The guards of the module ``tree`` (see the module's docstring), in source order."""
    body = cst.module_body(tree)
    if body is None:
        return []
    candidates: list[cst.Node] = []
    config = cst.find_option(tree, body, ["config"])
    value = cst.unwrap(config.child_by_field_name("expression")) if config is not None else None
    if value is not None:
        if _mkif(tree, value) is not None:
            candidates.append(value)
        elif call_name(tree, value) == "mkMerge":
            items = cst.unwrap(value.child_by_field_name("argument"))
            if items is not None and items.type == "list_expression":
                candidates += [
                    part
                    for part in (cst.unwrap(c) for c in items.named_children)
                    if part is not None and _mkif(tree, part) is not None
                ]
    declared = _false_switches(tree)
    out = []
    for node in candidates:
        found = _mkif(tree, node)
        if found is None:
            continue
        condition, guarded = found
        switch = config_option(tree, condition)
        if switch is not None and switch in declared:
            out.append(Guard(int(guarded.start_byte), int(guarded.end_byte), switch))
    return out


def hosts_off(
    guard: Guard,
    hosts: Iterable[str],
    modules_of: Callable[[str], Iterable[tuple[str, tuple[int, int] | None]]],
    complete: Callable[[str], bool],
    parse: Callable[[str], cst.Tree | None],
) -> frozenset[str]:
    """Those of ``hosts`` that leave ``guard``'s switch at its default (false).

    ``modules_of(host)``: the host's module files, each with the span of the inline
    module when it is one (else None); ``complete(host)``: whether discovery followed
    all of them; ``parse(file)``: its tree (None when unreadable: the host is kept)."""
    off = set()
    for host in hosts:
        if not complete(host):
            continue
        if not any(_may_set(guard.switch, parse(f), span) for f, span in modules_of(host)):
            off.add(host)
    return frozenset(off)


def _may_set(switch: tuple[str, ...], tree: cst.Tree | None, span: tuple[int, int] | None) -> bool:
    """Whether a binding of ``tree`` (within ``span``, an inline module) may set
    ``switch``: its option path is the switch's, or above it (``config`` itself
    included) with a value this reading cannot see into, or holds a name only
    evaluation tells."""
    if tree is None:
        return True
    depth: int | None = None
    for binding in cst.bindings(tree):
        if span is not None:
            if not span[0] <= binding.start < span[1]:
                continue
            if depth is None:  # (the first binding in the span is its attrset's own)
                depth = len(binding.attrset_path)
        path = tuple(option_path(binding, depth or 0))
        if path[:1] == ("options",):
            continue
        if any("${" in name or name.startswith('"') for name in path):
            if len(path) <= len(switch):
                return True  # (`my.${x}.enable`: a name evaluation computes)
            continue
        if path == switch:
            if _false(tree, binding.value):
                continue  # (`enable = false;`, `lib.mkForce false`: never turns it on)
            return True
        if switch[: len(path)] == path and _opaque(tree, binding.value):
            return True  # (`my = cfg;`, `config = import ./c.nix;`: anything)
    return False


# what a definition's value passes through: the attrsets inside are read as bindings
_TRANSPARENT = frozenset({"mkIf", "mkMerge", "mkDefault", "mkForce", "mkOverride"})


def _opaque(tree: cst.Tree, value: cst.Node | None) -> bool:
    """Whether ``value`` may define attributes this reading does not see as bindings:
    anything but an attrset, or one behind ``mkIf``/``mkMerge``/a priority."""
    node = passed_through(tree, value, _TRANSPARENT)
    if node is not None and node.type == "list_expression":  # (mkMerge [ … ])
        return any(_opaque(tree, item) for item in node.named_children)
    return node is None or node.type not in cst.ATTRSETS


_PRIORITIES = frozenset({"mkDefault", "mkForce", "mkOverride", "mkOptionDefault"})


def _false(tree: cst.Tree, value: cst.Node | None) -> bool:
    """Whether ``value`` is ``false``, at any priority (``lib.mkForce false``)."""
    node = passed_through(tree, value, _PRIORITIES)
    return (
        node is not None
        and node.type == "variable_expression"
        and cst.node_text(tree, node) == "false"
    )


def _mkif(tree: cst.Tree, node: cst.Node | None) -> tuple[cst.Node, cst.Node] | None:
    """``(condition, attrset)`` of ``mkIf condition { … }``, else None."""
    node = cst.unwrap(node) if node is not None else None
    if node is None or node.type != "apply_expression":
        return None
    inner = cst.unwrap(node.child_by_field_name("function"))
    if inner is None or call_name(tree, inner) != "mkIf":
        return None
    condition = cst.unwrap(inner.child_by_field_name("argument"))
    guarded = cst.unwrap(node.child_by_field_name("argument"))
    if condition is None or guarded is None or guarded.type not in cst.ATTRSETS:
        return None
    return condition, guarded


def _false_switches(tree: cst.Tree) -> set[tuple[str, ...]]:
    """The options the module declares with a false default: ``mkEnableOption …`` or
    ``mkOption { … default = false; … }``."""
    out = set()
    for binding in cst.bindings(tree):
        path = option_path(binding)
        if len(path) < 2 or path[0] != "options":
            continue
        value = cst.unwrap(binding.value)
        if value is None or value.type != "apply_expression":
            continue
        name = call_name(tree, value)
        if name == "mkEnableOption":
            out.add(tuple(path[1:]))
        elif name == "mkOption":
            argument = cst.unwrap(value.child_by_field_name("argument"))
            if argument is None or argument.type not in cst.ATTRSETS:
                continue
            default = cst.find_option(tree, argument, ["default"])
            given = default.child_by_field_name("expression") if default is not None else None
            given = cst.unwrap(given) if given is not None else None
            if given is not None and cst.node_text(tree, given) == "false":
                out.add(tuple(path[1:]))
    return out
