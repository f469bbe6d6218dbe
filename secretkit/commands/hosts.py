"""``secretkit hosts list|add|remove``: the hosts and their keys in ``.sops.yaml``.

``add`` takes the key as ``--age age1…``, ``--ssh-pubkey 'ssh-ed25519 …'`` or
``--ssh-pubkey-file F`` (a ``.pub`` file or ``ssh-keyscan`` output) and always
writes the ``age1…`` form.  ``hosts remove`` lives in
:mod:`secretkit.commands.remove_host` (it re-keys the files the host could read,
on top of :func:`secretkit.keys.sops_yaml.remove_host_text`).  ``list`` joins what
discovery finds in the Nix code with what ``.sops.yaml`` holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.commands import recover_interrupted
from secretkit.errors import UsageError, UserError
from secretkit.keys import sops_yaml
from secretkit.keys.sops_yaml import Change

if TYPE_CHECKING:
    from secretkit.keys.hosts import Inventory


@dataclass(frozen=True)
class HostChange:
    name: str
    recipient: str | None
    change: Change
    in_nix: bool | None = None  # add: whether discovery found a host of that name
    declare: str = ""  # add, when not in the Nix code: what to declare, where


@dataclass(frozen=True)
class HostRow:
    host: str
    key: str | None
    source: str  # "flake", "colmena", "hosts-dir" (joined with "+"), or ".sops.yaml only"
    entry_modules: tuple[str, ...]
    modules: int
    rule: bool

    def to_json(self) -> dict[str, object]:
        return {
            "host": self.host,
            "key": self.key,
            "source": self.source,
            "entry_modules": list(self.entry_modules),
            "modules": self.modules,
            "rule": self.rule,
        }


@dataclass(frozen=True)
class HostList:
    rows: list[HostRow]
    unresolved: list[tuple[str, str, tuple[str, ...]]]  # (path, reason, hosts using it)
    external: list[tuple[str, str]]  # (path, "line N: name") modules from inputs/nixpkgs


def recipient_from_options(
    cwd: Path, age: str | None, ssh_pubkey: str | None, ssh_pubkey_file: Path | None
) -> str:
    """Exactly one of the three key options, as an ``age1…`` recipient."""
    given = [x for x in (age, ssh_pubkey, ssh_pubkey_file) if x is not None]
    if len(given) != 1:
        raise UsageError(
            "give exactly one of --age, --ssh-pubkey, --ssh-pubkey-file",
            hint="e.g. --ssh-pubkey-file /etc/ssh/ssh_host_ed25519_key.pub",
        )
    if age is not None:
        from secretkit.keys.bech32 import normalize_age_recipient

        return normalize_age_recipient(age)
    from secretkit.keys.ssh_to_age import ssh_pubkey_file_to_age, ssh_pubkey_to_age

    if ssh_pubkey is not None:
        return ssh_pubkey_to_age(ssh_pubkey)
    assert ssh_pubkey_file is not None
    path = ssh_pubkey_file if ssh_pubkey_file.is_absolute() else cwd / ssh_pubkey_file
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UserError(
            f"cannot read {ssh_pubkey_file}: {exc.strerror}",
            hint="pass the host's ssh_host_ed25519_key.pub",
        ) from None
    return ssh_pubkey_file_to_age(text)


def add(cwd: Path, name: str, recipient: str) -> HostChange:
    from secretkit.keys.hosts import discover
    from secretkit.layouts.clan import read_clan

    root = recover_interrupted(cwd)  # a half-done rotate/remove is rolled back first
    if read_clan(root, []) is not None and name not in sops_yaml.read_keys(root).hosts:
        # clan reads machine keys from its own folders; clan's sops module ignores
        # .sops.yaml (which such a repository may keep for files outside clan)
        raise UserError(
            f"this is a clan-core repository: clan keeps machine keys in "
            f"sops/machines/<name>/key.json, not in {sops_yaml.SOPS_YAML}",
            hint=f"clan secrets machines add {name} {recipient}",
        )
    change = sops_yaml.add_host(root, name, recipient)
    inventory = discover(root)
    in_nix = name in inventory.hosts
    declare = "" if in_nix else declare_hint(inventory, name)
    return HostChange(name, recipient, change, in_nix=in_nix, declare=declare)


def declare_hint(inventory: Inventory, name: str) -> str:
    """What to write so that discovery finds host ``name``, in the style the repository
    already uses (clan machines, nixosConfigurations, a colmena hive, hosts/<h>/)."""
    sources = [part for h in inventory.hosts.values() for part in h.source.split("+")]
    style = max(set(sources), key=sources.count) if sources else ""
    entry = _entry_pattern(inventory, name, style)
    if style.startswith("clan"):
        return (
            f"create machines/{name}/configuration.nix (clan imports it), or declare "
            f"inventory.machines.{name} = {{ }}; in the clan call; clan keeps machine keys in "
            f"sops/machines/{name}/key.json: clan secrets machines add {name} <its age key>"
        )
    if style == "colmena":
        return f"add `{name} = {{ imports = [ ./{entry} ]; }};` to the colmena hive"
    if style == "hosts-dir":
        return f"create {entry} (a directory under hosts/ is a host)"
    return (
        f"add `nixosConfigurations.{name} = nixpkgs.lib.nixosSystem {{ modules = "
        f"[ ./{entry} ]; }};` to the outputs of flake.nix"
    )


def _entry_pattern(inventory: Inventory, name: str, style: str) -> str:
    """An existing host's first entry module with its name replaced by ``name``
    (``hosts/<h>/default.nix`` → ``hosts/<name>/default.nix``)."""
    for host in inventory.hosts.values():
        for entry in host.entry_modules:
            parts = entry.parts
            if host.name in parts:
                swapped = [name if p == host.name else p for p in parts]
                return "/".join(swapped)
            if entry.stem == host.name:
                return entry.with_name(name + entry.suffix).as_posix()
    return (
        f"hosts/{name}/configuration.nix" if style != "hosts-dir" else f"hosts/{name}/default.nix"
    )


def list_hosts(cwd: Path) -> HostList:
    from secretkit.keys.hosts import discover

    root = sops_yaml.find_root(cwd)
    inventory = discover(root)
    config = sops_yaml.read_keys(root)
    rows: list[HostRow] = []
    for name in sorted(set(inventory.hosts) | set(config.hosts)):
        host = inventory.hosts.get(name)
        rows.append(
            HostRow(
                host=name,
                key=config.hosts.get(name),
                source=host.source if host is not None else ".sops.yaml only",
                entry_modules=tuple(p.as_posix() for p in host.entry_modules) if host else (),
                modules=len(host.modules) if host is not None else 0,
                rule=config.host_rule(name) is not None,
            )
        )
    unresolved = [
        (p.as_posix(), reason, tuple(sorted(inventory.hosts_of_file(p))))
        for p, reason in inventory.unresolved
    ]
    external = [(p.as_posix(), what) for p, what in inventory.external]
    return HostList(rows=rows, unresolved=unresolved, external=external)
