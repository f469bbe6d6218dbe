"""Host discovery: the recognisers in order, then the inventory they found."""

from __future__ import annotations

from pathlib import Path

from secretkit.nix.hosts import colmena, directories, flake
from secretkit.nix.hosts.closure import Closure
from secretkit.nix.hosts.model import Host, Inventory, Note


def discover(root: Path) -> Inventory:
    """The hosts of the repository at ``root`` and the files each one uses."""
    d = Closure(root)
    for recogniser in (
        flake.flake,
        colmena.hive_file,
        flake.default_nix,
        directories.hosts_dir,
        directories.plain_configuration,
    ):
        recogniser(d)
        d.reading = None  # notes made between hosts are not about the last one
    hosts = {
        name: Host(
            name=name,
            entry_modules=list(acc.entry),
            modules=frozenset(acc.modules),
            source="+".join(acc.sources),
            inline=tuple(acc.inline),
            files=frozenset(acc.files),
            home_modules=frozenset(acc.home - acc.system),
            external=frozenset(acc.external),
            inert=frozenset(acc.inert),
            gaps=tuple(dict.fromkeys(acc.gaps)),
            module_sites=tuple(acc.sites),
            values={f: frozenset(i) for f, i in acc.as_value.items() if f not in acc.as_module},
            mapped_node=acc.mapped_node,
            host_names=tuple(sorted(acc.host_names)),
            named=acc.named,
            resolved=acc.resolved,
        )
        for name, acc in sorted(d.hosts.items())
    }
    return Inventory(
        root=root,
        hosts=hosts,
        notes=sorted(d.unresolved, key=Note.order),
        external_notes=sorted(d.external, key=Note.order),
        note_hosts={note: frozenset(names) for note, names in d.note_hosts.items()},
        definition_files=frozenset(d.definition_files),
    )
