"""What a host's Nix files set an option to, read without evaluating: the string
literals given to it in the files of the hosts that import a given file (every file
where the hosts are not known).  The gate asks it for the options that decide
whether a configuration works (``services.nginx.user``,
``services.prometheus.alertmanager.checkConfig``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext


_STRINGS = ("string_expression", "indented_string_expression")


def values_set(ctx: CheckContext, option: list[str], *, at: str) -> set[str | None]:
    """The values the ``.nix`` files of the hosts importing ``at`` give ``option``:
    a plain string's text, the text of anything else as written (``false``), None for
    what cannot be told (an interpolated string, an expression)."""
    from secretkit.nix import cst
    from secretkit.nix.sops_refs import option_path

    inventory = ctx.inventory()
    hosts = inventory.hosts_of_file(at)
    found: set[str | None] = set()
    needles = [part.encode() for part in option]
    for file in ctx.files():
        data = ctx.read(file) if file.endswith(".nix") else None
        if data is None or not all(needle in data for needle in needles):
            continue
        theirs = inventory.hosts_of_file(file)
        if hosts and theirs and not hosts & theirs:
            continue  # (another host's setting)
        tree = cst.parse(data)
        for binding in cst.bindings(tree):
            if option_path(binding) != option:
                continue
            value = cst.unwrap(binding.value)
            if value is not None and value.type in _STRINGS:
                found.add(cst.string_value(tree, value))
            elif value is not None and value.type == "variable_expression":
                found.add(str(cst.node_text(tree, value)))  # (true, false, null)
            else:
                found.add(None)
    return found
