"""``nix-secret-refs``: references no declaration names, where the reading host may get
the name from a ``sops.secrets`` whose names are computed (``mapAttrs`` over a folder,
``mkSecrets …``: :mod:`secretkit.nix.generated_decls` reads what it can) or from clan's
store.  Such a reference cannot be verified; one a host can be shown not to get is
undeclared.  (Before, one computed ``sops.secrets`` anywhere left every reference of
the repository unchecked.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

from secretkit.gate.model import CheckResult

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext


def clan_store(ctx: CheckContext, name: str, hosts: set[str]) -> CheckResult | bool:
    """Whether clan's store holds ``name`` (``sops/secrets/<name>/secret``, a var's
    ``vars/…/<name>/secret``), which clan-core's module declares on the machines it is
    shared with; a failure when one of ``hosts`` (the machines reading it) is not."""
    clan = ctx.clan()
    if clan is None:
        return False
    secret = clan.secrets.get(f"sops/secrets/{name}/secret") or clan.secrets.get(f"{name}/secret")
    if secret is None:
        return False
    shared = secret.machines(clan)
    for host in sorted(hosts - shared):
        return CheckResult(
            "nix-secret-refs",
            False,
            f'machine {host} reads config.sops.secrets."{name}", which clan\'s store shares '
            f"only with {', '.join(sorted(shared)) or 'no machine'}: {host} does not evaluate "
            "(attribute missing)",
            f"clan secrets machines add-secret {host} {name}",
            (secret.path,),
        )
    return True


def computing_for(ctx: CheckContext, host: str) -> str | None:
    """A file computing ``sops.secrets`` names that ``host`` imports, or may import (its
    imports are not all followed and the file is one no host is seen to import)."""
    inventory = ctx.inventory()
    dynamic = sorted(set(ctx.nix().dynamic))
    for path in dynamic:
        if host in inventory.hosts_of_file(path):
            return path
    unplaced = [path for path in dynamic if not inventory.hosts_of_file(path)]
    if unplaced and host in inventory.hosts and inventory.hosts[host].unseen(but_sops_nix=True):
        return unplaced[0]
    return None


def computing_at(ctx: CheckContext, file: str, offset: int) -> str | None:
    """:func:`computing_for` the hosts reading ``file`` at ``offset``; for a file no host
    is seen to import, any file computing names."""
    hosts = ctx.inventory().hosts_at(file, offset)
    if not hosts:
        dynamic = sorted(set(ctx.nix().dynamic))
        return dynamic[0] if dynamic else None
    for host in sorted(hosts):
        found = computing_for(ctx, host)
        if found is not None:
            return found
    return None


def may_be_computed(file: str, line: int, name: str, computing: str) -> CheckResult:
    return CheckResult(
        "nix-secret-refs",
        False,
        f'cannot verify: {file}:{line}: config.sops.secrets."{name}" is declared nowhere by '
        f"name, and {computing} computes sops.secrets names, which secretkit does not "
        "evaluate",
        f'declare it by name beside the computed ones: sops.secrets."{name}" = {{ }}; (a '
        "definition by name merges with a computed one; check then reads its file and key)",
        (file,),
        "a secret whose declaration may be computed",
    )
