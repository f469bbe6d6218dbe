"""The host names a shared module's secrets are read by: a module used by several hosts
reads ``secrets/<networking.hostName>.yaml`` (what ``migrate`` and ``import agenix``
write there), so each host's ``networking.hostName`` must be its own name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from secretkit.errors import UserError
from secretkit.layouts.sops_nix import host_secrets_path

if TYPE_CHECKING:
    from secretkit.nix.hosts import Inventory


def hostname_mismatches(
    sources: dict[str, bytes],
    inventory: Inventory,
    hosts: set[str],
    command: str = "secretkit migrate",
) -> list[UserError]:
    """A module shared by several hosts reads ``secrets/<networking.hostName>.yaml``:
    a host whose literal hostName is not its name would look for another file, and so
    would one that sets none (NixOS then names it ``nixos``; colmena does not name a
    node after itself)."""
    from secretkit.plan.advice import host_name_values

    problems = []
    for host in sorted(hosts):
        names, bound, opaque = host_name_values(inventory, sources, host)
        if not bound:
            problems.append(
                UserError(
                    f'host {host} sets no networking.hostName, so NixOS names it "nixos" '
                    "and the secrets of modules it shares with other hosts would be read "
                    f"from {host_secrets_path('nixos')} instead of {host_secrets_path(host)}",
                    hint=f'set networking.hostName = "{host}"; in a module of {host}, then '
                    f"run {command} again",
                )
            )
            continue
        if not names and opaque:
            problems.append(
                UserError(
                    f"host {host} sets networking.hostName = {opaque[0]}, which secretkit "
                    "cannot read without evaluating Nix, so the secrets of modules it shares "
                    f"with other hosts could be read from another file than "
                    f"{host_secrets_path(host)}",
                    hint="write that networking.hostName as a string literal, or as the name "
                    "the host set hands each host (mapAttrs (name: host: …) gives `name`), "
                    f"equal to {host}, then run {command} again",
                )
            )
            continue
        if names and host not in names:
            other = sorted(names)[0]
            problems.append(
                UserError(
                    f'host {host} sets networking.hostName = "{other}", so the secrets of '
                    f"modules it shares with other hosts would be read from "
                    f"{host_secrets_path(other)} instead of {host_secrets_path(host)}",
                    hint="make networking.hostName equal the host's name in the flake or "
                    "colmena hive, or move that host's shared secrets by hand",
                )
            )
    return problems
