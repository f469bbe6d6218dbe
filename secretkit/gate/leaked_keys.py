"""A key ``.sops.yaml`` names that was made from an ssh private key the repository
itself holds (nix-community/infra's FreeBSD builder: its host key committed in
``ssh.nix``, then its ``.pub`` handed to ``hosts add``): whoever reads the repository
decrypts what is encrypted for that key.  Part of ``host-readable``."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from secretkit.gate.model import CheckResult
from secretkit.keys.sops_yaml import read_keys

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext

_OPENSSH = "-----BEGIN OPENSSH PRIVATE KEY-----"


def leaked_recipients(ctx: CheckContext, point: str = "host-readable") -> list[CheckResult]:
    """One failure for each host key of ``.sops.yaml`` whose private half was committed
    (a value plaintext-history found: ``ctx.committed``)."""
    from secretkit.errors import SecretkitError
    from secretkit.keys.ssh_to_age import age_public_of_identity, ssh_private_key_to_age

    held = [v for v in ctx.committed or () if _OPENSSH in v]
    if not held:
        return []
    keys = read_keys(ctx.root)
    named = {value: name for name, value in keys.hosts.items()}
    results = []
    for pem in held:
        recipient = None
        with contextlib.suppress(SecretkitError, ValueError):
            identity = ssh_private_key_to_age(pem.strip().encode() + b"\n")
            recipient = age_public_of_identity(identity)
        name = named.get(recipient or "")
        if name is None:
            continue
        results.append(
            CheckResult(
                point,
                False,
                f"the key .sops.yaml names for host {name} ({recipient}) is made from an ssh "
                "private key committed to this repository: whoever reads it decrypts "
                "every secret encrypted for that key",
                "give the host a new key made outside the repository (ssh-keygen -t ed25519 "
                "-N '' -f DIR/ssh_host_ed25519_key, installed on the host as "
                "/etc/ssh/ssh_host_ed25519_key), then `secretkit rotate host "
                f"{name} --ssh-pubkey-file DIR/ssh_host_ed25519_key.pub`, and change the "
                "secrets that key could open",
                (".sops.yaml",),
            )
        )
    return results
