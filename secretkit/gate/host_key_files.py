"""Host keys the repository itself holds, held to the key ``.sops.yaml`` names for the
host (part of the gate's ``host-readable``).

Many repositories commit each host's ssh public key: ``hosts/<h>/ssh_host_ed25519_key
.pub`` (what ``hosts add --ssh-pubkey-file`` is given), or
``programs.ssh.knownHosts.<h>.publicKey``.  A host reinstalled gets a new key, and the
file is updated while ``.sops.yaml`` still names the old one: sops-nix on the host
cannot open its file, and the labels agree with each other.  Where such a key is not
the one ``.sops.yaml`` names, one of the two is stale: not verified, with both ways.

Read: a ``ssh_host_ed25519_key.pub`` in the directory of one of the host's entry
modules, and a ``programs.ssh.knownHosts.<h>.publicKey`` (or ``.publicKeyFile``'s
file) naming the host by its own name, holding one ``ssh-ed25519`` key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from secretkit.gate.model import CheckResult

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext

POINT = "host-readable"
_NAME = "ssh_host_ed25519_key.pub"


def stale_host_keys(ctx: CheckContext, own_key: Callable[[str], str | None]) -> list[CheckResult]:
    """A failure for each host key the repository holds that is not the one .sops.yaml
    names for its host; a host whose sops-nix is given a key of its own (``own_key``:
    an age keyFile, another ssh key) is not held to its ssh host key."""
    from secretkit.errors import SecretkitError
    from secretkit.keys.sops_yaml import read_keys
    from secretkit.keys.ssh_to_age import ssh_pubkey_to_age
    from secretkit.layouts.sops_nix import host_key, host_slug

    keys = read_keys(ctx.root)
    out = []
    for host, where, line in _committed_keys(ctx):
        if own_key(host) is not None:
            continue
        named = host_key(keys.hosts, keys.keys, host)
        if named is None or not named.startswith("age1"):
            continue  # (no key yet: said elsewhere; a PGP host: not an ssh key's)
        try:
            age = ssh_pubkey_to_age(line)
        except (SecretkitError, ValueError):
            continue
        if age == named:
            continue
        slug = host_slug(host)
        out.append(
            CheckResult(
                POINT,
                False,
                f"cannot verify: {where} holds host {host}'s ssh key, whose age key is "
                f"{age[:16]}…, but .sops.yaml names {named[:16]}… for {host}: one of them is "
                "stale, and sops-nix on the host opens its files only with the key it has",
                f"if {host} now has the key in {where} (reinstalled): secretkit rotate host "
                f"{slug} --ssh-pubkey-file <that key's .pub>; if {where} is stale, put the "
                f"host's key there (ssh-keyscan -t ed25519 <{host}'s address>)",
                (where.split(":")[0],),
            )
        )
    return out


def _committed_keys(ctx: CheckContext) -> list[tuple[str, str, str]]:
    """``(host, where, key line)`` of each host key the repository holds."""
    from secretkit.gate.option_values import option_bindings, plain_string

    inventory = ctx.inventory()
    files = set(ctx.files())
    out: list[tuple[str, str, str]] = []
    for name, host in sorted(inventory.hosts.items()):
        if host.darwin or "home-manager" in host.source.split("+"):
            continue
        for entry in host.entry_modules:
            rel = (PurePosixPath(entry.as_posix()).parent / _NAME).as_posix()
            if rel in files:
                line = _one_key(ctx.read(rel))
                if line is not None:
                    out.append((name, rel, line))
                    break
    for file in sorted(files):
        data = ctx.read(file) if file.endswith(".nix") else None
        if data is None or b"knownHosts" not in data or b"ssh-ed25519" not in data:
            continue
        tree, bindings = option_bindings(ctx, file)
        for binding, path in bindings:
            if path[:3] != ["programs", "ssh", "knownHosts"] or path[4:] != ["publicKey"]:
                continue
            if path[3] not in inventory.hosts:
                continue
            line = _one_key((plain_string(tree, binding.value) or "").encode())
            if line is not None:
                at = data.count(b"\n", 0, binding.start) + 1
                out.append((path[3], f"{file}:{at}", line))
    return out


def _one_key(data: bytes | None) -> str | None:
    """The one ``ssh-ed25519`` key line of ``data``, else None."""
    lines = [
        line.strip()
        for line in (data or b"").decode("utf-8", "replace").splitlines()
        if "ssh-ed25519 " in line
    ]
    return lines[0] if len(lines) == 1 else None
