"""A key ``.sops.yaml`` or a sops file names whose private half the repository itself
holds: an ssh private key a host key was made from (nix-community/infra's FreeBSD
builder: its host key committed in ``ssh.nix``, then its ``.pub`` handed to ``hosts
add``), or an age identity committed once (``AGE-SECRET-KEY-1…`` in a ``keys.txt`` of
the history, whose public key still opens today's file).  Whoever reads the repository
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
        return _leaked_age_identities(ctx, point)
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
    return results + _leaked_age_identities(ctx, point)


_AGE_IDENTITY = "AGE-SECRET-KEY-1"


def _leaked_age_identities(ctx: CheckContext, point: str) -> list[CheckResult]:
    """One failure for each committed age identity whose public key ``.sops.yaml`` or
    a sops file names (an admin's, a host's under any anchor)."""
    import re

    from secretkit.errors import SecretkitError
    from secretkit.keys.ssh_to_age import age_public_of_identity
    from secretkit.sops.operations import recipients_of

    found = {
        m for v in ctx.committed or () if _AGE_IDENTITY in v.upper()
        for m in re.findall(r"AGE-SECRET-KEY-1[0-9A-Z]{58}", v.upper())
    }  # fmt: skip
    if not found:
        return []
    keys = read_keys(ctx.root)
    anchors: dict[str, str] = {}
    for name, value in keys.keys.items():
        anchors.setdefault(value.strip().lower(), name)
    files: dict[str, list[str]] = {}
    for entry in ctx.sops_files():
        for group in recipients_of(entry.sops):
            for ident in group:
                files.setdefault(ident.strip().lower(), []).append(entry.path)
    results = []
    for identity in sorted(found):
        try:
            recipient = age_public_of_identity(identity)
        except (SecretkitError, ValueError):
            continue
        opens = sorted(set(files.get(recipient, ())))
        anchor = anchors.get(recipient)
        if not opens and anchor is None:
            continue  # (a key nothing here is encrypted for: plaintext-history's alone)
        named = f"&{anchor} " if anchor else ""
        what = (
            f"opens {', '.join(opens[:3])}" + (" …" if len(opens) > 3 else "")
            if opens
            else ("is named in .sops.yaml")
        )
        host = next((h for h, v in keys.hosts.items() if v == recipient), None)
        replace = (
            f"secretkit rotate host {host} with a key made outside the repository"
            if host
            else "a new key pair made outside the repository (age-keygen) in its place in "
            ".sops.yaml, then secretkit updatekeys and secretkit rotate data-keys for each file"
        )
        results.append(
            CheckResult(
                point,
                False,
                f"the age key {named}({recipient}) {what}, and its private half was committed "
                "to this repository: whoever reads the history decrypts every value of "
                "those files, past and present",
                f"replace it ({replace}), and change every value those files held: the old "
                "versions stay readable in the history",
                (".sops.yaml", *opens[:3]),
            )
        )
    return results
