"""An option of the repository's own that hands its value on to a service's option:
``my.backup.passphrase = config.sops.secrets.x.path;`` in a host, and
``encryption.passphrase = cfg.passphrase;`` in the module that declares it.  Given a
secret's path, the service gets the text ``/run/secrets/x`` as its passphrase, as if
the path were written there (reference_kinds catches that direct case)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext
    from secretkit.nix.catalogue.base import Entry

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


def value_forward(ctx: CheckContext, own: tuple[str, ...]) -> Forward | None:
    """The first binding of the repository that gives ``config.<own>`` (read directly or
    through a let-bound part of ``config``) to an option the catalogue moves a secret
    value from (not a file option), else None."""
    from secretkit.gate.option_values import option_bindings
    from secretkit.nix import catalogue, cst
    from secretkit.nix.config_reads import config_option

    last = own[-1].encode()
    for file in sorted(ctx.files()):
        data = ctx.read(file) if file.endswith(".nix") else None
        if data is None or last not in data:
            continue
        tree, bindings = option_bindings(ctx, file)
        for binding, path in bindings:
            value = cst.unwrap(binding.value)
            if value is None or value.type not in ("select_expression", "variable_expression"):
                continue
            if not path or _FILE_OPTION.search(path[-1]) or config_option(tree, value) != own:
                continue
            known = catalogue.lookup(path)
            if known is not None and known.key != "write-text-file":
                line = data.count(b"\n", 0, binding.start) + 1
                return Forward(file, line, tuple(path), known)
    return None
