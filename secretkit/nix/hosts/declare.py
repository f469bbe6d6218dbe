"""What to write so that host discovery finds a host it did not, in the style the
repository already uses (clan machines, nixosConfigurations, a flake-parts module, a
colmena hive, ``hosts/<h>/``) — and, where discovery could not follow part of the
code, that the host may be declared there already."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from secretkit.nix.hosts import Inventory


def declare_hint(inventory: Inventory, name: str) -> str:
    """What to write so that discovery finds host ``name``, in the style the repository
    already uses (clan machines, nixosConfigurations, a colmena hive, hosts/<h>/)."""
    sources = [part for h in inventory.hosts.values() for part in h.source.split("+")]
    style = max(set(sources), key=sources.count) if sources else ""
    flake = (inventory.root / "flake.nix").is_file()
    if not style and not flake and (inventory.root / "hive.nix").is_file():
        style = "colmena"  # (no host read yet: the repository's own way is its hive)
    entry = _entry_pattern(inventory, name, style)
    if style.startswith("clan"):
        return (
            f"create machines/{name}/configuration.nix (clan imports it), or declare "
            f"inventory.machines.{name} = {{ }}; in the clan call; clan keeps machine keys in "
            f"sops/machines/{name}/key.json: clan secrets machines add {name} <its age key>"
        )
    if style == "colmena":
        declared = f"add `{name} = {{ imports = [ ./{entry} ]; }};` to the colmena hive"
        return _unless_unread(inventory, declared)
    if style == "hosts-dir":
        return f"create {entry} (a directory under hosts/ is a host)"
    if not flake and not style:  # (no flake.nix, no host read: hosts/<h>/ is read)
        declared = f"create hosts/{name}/default.nix (a directory under hosts/ is a host)"
        return _unless_unread(inventory, declared)
    if _flake_mentions(inventory, b"snowfall-lib"):
        return f"create {entry} (snowfall-lib makes a system of each systems/<target>/<host>/)"
    if _flake_mentions(inventory, b"mkFlake"):  # flake-parts modules' `flake.…`; no `nixpkgs`
        declared = (
            f"add `flake.nixosConfigurations.{name} = inputs.nixpkgs.lib.nixosSystem "
            f'{{ modules = [ "${{inputs.self}}/{entry}" ]; }};` to a flake-parts module'
        )
    else:
        declared = (
            f"add `nixosConfigurations.{name} = nixpkgs.lib.nixosSystem {{ modules = "
            f"[ ./{entry} ]; }};` to the outputs of flake.nix"
        )
    if Path(entry).parent.name == name:  # hosts may be made from directories: say both
        declared += f" (or create {entry}, if the flake makes a host of each directory there)"
    return _unless_unread(inventory, declared)


def _unless_unread(inventory: Inventory, declared: str) -> str:
    """``declared``, and where discovery could not follow part of the code, that the
    host may be declared there already."""
    if not inventory.notes:
        return declared
    note = inventory.notes[0]
    return (
        f"{declared}, unless it is already declared where secretkit could not follow "
        f"({note.file.as_posix()}: {note.text}): then a second definition would conflict"
    )


def _flake_mentions(inventory: Inventory, word: bytes) -> bool:
    """Whether flake.nix holds ``word`` (``mkFlake``: flake-parts outputs)."""
    try:
        data = (inventory.root / "flake.nix").read_bytes()
    except OSError:
        return False
    return word in data


def _entry_pattern(inventory: Inventory, name: str, style: str) -> str:
    """An existing host's first entry module with its name replaced by ``name``
    (``hosts/<h>/default.nix`` → ``hosts/<name>/default.nix``): a NixOS system's, not
    a home-manager configuration's (snowfall's ``homes/<target>/<user>@<host>/``)."""
    for host in inventory.hosts.values():
        if host.darwin or "home-manager" in host.source.split("+"):
            continue
        for entry in host.entry_modules:
            parts = entry.parts
            if host.name in parts:
                swapped = [name if p == host.name else p for p in parts]
                return "/".join(swapped)
            if entry.stem == host.name:
                return entry.with_name(name + entry.suffix).as_posix()
    for folder in ("machines", "hosts", "systems", "nodes"):  # (no host read: the tree's)
        base = inventory.root / folder
        subdirs = sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
        for sub in subdirs:
            for file in ("default.nix", "configuration.nix"):
                if (sub / file).is_file():
                    return f"{folder}/{name}/{file}"
    return (
        f"hosts/{name}/configuration.nix" if style != "hosts-dir" else f"hosts/{name}/default.nix"
    )
