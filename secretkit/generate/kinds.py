"""The registry of kinds: one module each, one line here (a test iterates it)."""

from __future__ import annotations

from secretkit.errors import UsageError
from secretkit.generate import (
    alnum,
    b64,
    hashed_password,
    hex,
    passphrase,
    password,
    ssh_ed25519,
    wireguard,
)
from secretkit.generate.model import Generated, Kind, Options

KINDS: dict[str, Kind] = {
    "password": password.KIND,
    "passphrase": passphrase.KIND,
    "hex": hex.KIND,
    "base64": b64.KIND,
    "alnum": alnum.KIND,
    "wireguard": wireguard.KIND,
    "ssh-ed25519": ssh_ed25519.KIND,
    "hashed-password": hashed_password.KIND,
}

__all__ = ["KINDS", "Generated", "Kind", "Options", "kind_for"]


def kind_for(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        raise UsageError(f"unknown kind {name!r}", hint=f"one of: {', '.join(KINDS)}")
    return kind
