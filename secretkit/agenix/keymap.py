"""Which host or admin each public key of ``secrets.nix`` is.

A key is

* a host when its ``age1…`` form (ssh-ed25519 keys through ssh-to-age) is that
  host's key in ``.sops.yaml``, or when its ``let`` name is the name of a host
  found in the flake (the host is then added to ``.sops.yaml`` with that key);
* an admin when its ``age1…`` form is an admin's key in ``.sops.yaml``.

Anything else stops the import before it writes: a reader the sops files would
silently drop is a lost reader.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from secretkit.errors import UserError
from secretkit.keys.ssh_to_age import SSHKeyError, ssh_pubkey_to_age
from secretkit.layouts.agenix_rules import PublicKey, Rule
from secretkit.sops.keysources.bech32 import Bech32Error, normalize_age_recipient


@dataclass
class KeyMap:
    """Public key text → ``("host"|"admin", name)``, and the hosts to add to ``.sops.yaml``."""

    owners: dict[str, tuple[str, str]] = field(default_factory=dict)
    new_hosts: dict[str, str] = field(default_factory=dict)  # host -> age1…

    def hosts_of(self, rule: Rule) -> list[str]:
        return sorted(
            {self.owners[k.value][1] for k in rule.keys if self.owners[k.value][0] == "host"}
        )


def _shown(key: PublicKey) -> str:
    if key.name:
        return key.name
    parts = key.value.split()
    body = parts[1] if len(parts) > 1 else parts[0] if parts else ""
    return f"{parts[0] if len(parts) > 1 else 'key'} {body[:12]}…"


def age_form(key: PublicKey, where: str) -> str:
    """The ``age1…`` recipient sops-nix will use for this key."""
    text = key.value
    if text.startswith("age1"):
        try:
            return normalize_age_recipient(text)
        except Bech32Error:
            raise UserError(f"{where}: {_shown(key)} is not a valid age public key") from None
    try:
        return ssh_pubkey_to_age(text)
    except SSHKeyError as exc:
        raise UserError(
            f"{where}: {_shown(key)} cannot become an age key for sops-nix ({exc.message})",
            hint="use the host's ssh-ed25519 key or an age1… key in secrets.nix",
        ) from None


def map_keys(
    rules: Sequence[Rule],
    hosts: Iterable[str],
    admins: Mapping[str, str],
    host_keys: Mapping[str, str],
    where: str = "secrets.nix",
) -> KeyMap:
    """Map every key of ``rules``; one :class:`UserError` naming all unknown keys."""
    known_hosts = set(hosts)
    by_age = {v: ("admin", n) for n, v in admins.items()}
    by_age.update({v: ("host", n) for n, v in host_keys.items()})
    result = KeyMap()
    unknown: dict[str, tuple[PublicKey, str, list[str]]] = {}
    for rule in rules:
        for key in rule.keys:
            if key.value in result.owners:
                continue
            recipient = age_form(key, where)
            owner = by_age.get(recipient)
            if owner is None and key.name in known_hosts:
                current = host_keys.get(key.name)
                if current is not None and current != recipient:
                    raise UserError(
                        f"{where}: host {key.name} has another key in .sops.yaml",
                        hint=f"if the host key changed run: secretkit rotate host {key.name} "
                        f"--age {recipient}; else fix secrets.nix",
                    )
                owner = ("host", key.name)
                result.new_hosts.setdefault(key.name, recipient)
            if owner is None:
                unknown.setdefault(key.value, (key, recipient, []))[2].append(rule.file)
                continue
            result.owners[key.value] = owner
    if unknown:
        key, recipient, files = next(iter(unknown.values()))
        name = key.name or "NAME"
        more = f" (and {len(unknown) - 1} more key(s))" if len(unknown) > 1 else ""
        raise UserError(
            f"{where}: public key {_shown(key)} (reads {', '.join(files[:3])}) matches no host "
            f"of the flake and no admin in .sops.yaml{more}",
            hint=f"a person: secretkit init --admin {recipient} --admin-name {name}; "
            f"a host: secretkit hosts add {name} --age {recipient}",
        )
    return result
