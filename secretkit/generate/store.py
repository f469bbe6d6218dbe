"""Secret values in the hosts' sops files (``secrets/<host>.yaml``), read once and
changed in memory; :meth:`HostFiles.outputs` gives the new bytes of every changed
file for the caller to write in one :class:`~secretkit.atomic.Transaction`.

Names are key paths written with ``/`` (``wireguard/private_key`` ↔
``wireguard: {private_key: …}``), like the names ``migrate`` uses.
"""

from __future__ import annotations

from pathlib import Path

from secretkit.errors import SecretkitError, UsageError
from secretkit.keys import sops_yaml
from secretkit.layouts.sops_nix import host_secrets_path
from secretkit.sensitive import Sensitive
from secretkit.sops import document, operations
from secretkit.sops.document import PlainFile
from secretkit.sops.identities import Identities


def split_name(name: str) -> tuple[str, ...]:
    """``a/b/c`` → ``("a", "b", "c")``; UsageError for an empty part, or a ``.`` or
    ``..`` one (sops-nix makes the name a path below /run/secrets: ``../x`` leaves it)."""
    parts = tuple(name.split("/"))
    if not name or any(not p or p != p.strip() or p in (".", "..") for p in parts):
        raise UsageError(
            f"bad secret name {name!r}",
            hint="write names as key paths like wireguard/private_key",
        )
    return parts


class HostFiles:
    """The plaintext view of sops files, keyed by repository-relative path."""

    def __init__(self, root: Path, identities: Identities) -> None:
        self.root = root
        self.identities = identities
        self._plain: dict[str, PlainFile | None] = {}
        self._data: dict[str, bytes | None] = {}
        self._changes: dict[str, dict[tuple[str, ...], Sensitive[str]]] = {}

    @staticmethod
    def host_file(host: str) -> str:
        sops_yaml.validate_name(host)
        return host_secrets_path(host)

    def _open(self, rel: str) -> PlainFile | None:
        if rel not in self._plain:
            path = self.root / rel
            data = operations.read_input(path) if path.exists() else None
            self._data[rel] = data
            self._plain[rel] = (
                None
                if data is None
                else operations.decrypt_bytes(
                    data, document.format_for_path(rel), self.identities, source=rel
                )
            )
        return self._plain[rel]

    def exists(self, rel: str) -> bool:
        return (self.root / rel).exists()

    def get(self, rel: str, name: str) -> Sensitive[str] | None:
        """The value at ``name`` (pending changes first), None when absent."""
        keys = split_name(name)
        pending = self._changes.get(rel, {}).get(keys)
        if pending is not None:
            return pending
        plain = self._open(rel)
        if plain is None:
            return None
        try:
            value = plain.get(list(keys))
        except SecretkitError:
            return None
        if isinstance(value, dict | list):
            raise UsageError(
                f"{rel}: {name} holds a mapping or list, not one value",
                hint="name a leaf value (a longer key path)",
            )
        return Sensitive(str(value))

    def set(self, rel: str, name: str, value: Sensitive[str]) -> None:
        self._open(rel)  # fails now (exit 3/4) when the file does not open
        self._changes.setdefault(rel, {})[split_name(name)] = value

    def changed(self) -> list[str]:
        return list(self._changes)

    def outputs(self) -> list[tuple[Path, bytes]]:
        """New bytes per changed file (same data key for an existing file, a new one
        from the ``.sops.yaml`` creation rule for a new file)."""
        out: list[tuple[Path, bytes]] = []
        for rel, values in self._changes.items():
            path = self.root / rel
            existing = self._data.get(rel)
            rule = operations.rule_for_file(self.root, path) if existing is None else None
            if rule is None:
                from secretkit.sops.config import find_config

                config = find_config(self.root)
                rule = config.rule_for(path) if config is not None else None
            data = operations.set_values(
                existing,
                document.format_for_path(rel),
                dict(values),
                rule=rule,
                identities=self.identities,
                source=rel,
            )
            out.append((path, data))
        return out
