"""An option of the repository's own that hands its value on to a service's option:
``my.backup.passphrase = config.sops.secrets.x.path;`` in a host, and
``encryption.passphrase = cfg.passphrase;`` in the module that declares it.  Given a
secret's path, the service gets the text ``/run/secrets/x`` as its passphrase, as if
the path were written there (reference_kinds catches that direct case)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext
    from secretkit.nix.catalogue.base import Entry

# calls whose value is their argument's, as far as a secret's text goes
_PASSING = frozenset({"toString", "mkDefault", "mkForce", "mkOverride", "mkOptionDefault"})
# an option named for a file (passwordFile, keyPath): a path is its value
_FILE_OPTION = re.compile(r"(?i)(?:file|path|dir|directory)s?$")


@dataclass(frozen=True)
class Forward:
    """Where ``option`` (a catalogued option that takes a secret's value) is given the
    value of the repository's own option."""

    file: str
    line: int
    option: tuple[str, ...]
    entry: Entry


def value_forward(ctx: CheckContext, own: tuple[str, ...], depth: int = 3) -> Forward | None:
    """The first binding of the repository that gives ``config.<own>`` (read directly or
    through a let-bound part of ``config``, alone or as a string's one interpolation,
    ``"${cfg.passphrase}"``) to an option the catalogue moves a secret value from (not a
    file option) — or, up to ``depth`` options of the repository's own, to one that
    hands it on to such an option — else None."""
    from secretkit.gate.option_values import option_bindings
    from secretkit.nix import catalogue, cst
    from secretkit.nix.config_reads import config_option

    last = own[-1].encode()
    handed: list[tuple[str, ...]] = []  # own options it is handed to (followed after)
    for file in sorted(ctx.files()):
        data = ctx.read(file) if file.endswith(".nix") else None
        if data is None or last not in data:
            continue
        tree, bindings = option_bindings(ctx, file)
        for binding, path in bindings:
            value = _read(tree, binding.value)
            if value is None or not path or _FILE_OPTION.search(path[-1]):
                continue
            if config_option(tree, value) != own or path[0] == "options":
                continue
            known = catalogue.lookup(path)
            if known is not None and known.key != "write-text-file":
                line = data.count(b"\n", 0, binding.start) + 1
                return Forward(file, line, tuple(path), known)
            if known is None and tuple(path) != own:
                handed.append(tuple(path))
        for binding, path in bindings:  # (`encryption = { inherit (cfg) passphrase; }`)
            value = cst.unwrap(binding.value)
            if value is None or value.type not in cst.ATTRSETS:
                continue
            for source, names in cst.inherited_from(tree, value):
                base = config_option(tree, cst.unwrap(source))
                for name in names if base is not None else ():
                    target = [*path, name]
                    if (*(base or ()), name) != own or _FILE_OPTION.search(name):
                        continue
                    known = catalogue.lookup(target)
                    if known is not None and known.key != "write-text-file":
                        line = data.count(b"\n", 0, source.start_byte) + 1
                        return Forward(file, line, tuple(target), known)
    for other in handed if depth > 1 else ():  # (my.a = cfg.b; … c.password = cfg.a;)
        found = value_forward(ctx, other, depth - 1)
        if found is not None:
            return found
    return None


def _read(tree: Any, node: Any) -> Any:
    """The expression a binding's value reads: itself, ``toString`` of it, or the one
    interpolation of a string that holds nothing else (``"${cfg.x}"``)."""
    from secretkit.nix import cst
    from secretkit.nix.syntax import passed_through

    value = passed_through(tree, node, _PASSING)  # (lib.mkDefault (toString cfg.x))
    if value is not None and value.type == "string_expression":
        parts = [c for c in value.named_children if c.type != "comment"]
        if len(parts) == 1 and parts[0].type == "interpolation":
            inner = [c for c in parts[0].named_children if c.type != "comment"]
            value = cst.unwrap(inner[0]) if len(inner) == 1 else None
    if value is None or value.type not in ("select_expression", "variable_expression"):
        return None
    return value
