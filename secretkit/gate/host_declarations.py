"""Per host, the sops secrets its modules read and declare: a host that reads
``config.sops.secrets."<n>"`` which only other hosts' modules declare does not
evaluate, though the name is declared somewhere (``nix-secret-refs``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from secretkit.gate.computed_names import computing_for
from secretkit.gate.model import CheckResult

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext


def declared_elsewhere(ctx: CheckContext, declared: set[str]) -> list[CheckResult]:
    """References a host makes to a secret only other hosts' modules declare: that
    host does not evaluate (attribute missing).  Where discovery could not follow all
    of the host's modules, a declaration may hide there: cannot verify."""
    facts = ctx.nix()
    inventory = ctx.inventory()
    by_host: dict[str, set[str]] = {}
    where: dict[str, str] = {}
    for decl in facts.declarations:
        where.setdefault(decl.name, decl.file)
        for host in inventory.hosts_at(decl.file, decl.offset):
            by_host.setdefault(host, set()).add(decl.name)
    results = []
    for name, file, offset, line in facts.references:
        if name not in declared:
            continue  # (never declared anywhere: said above)
        for host in sorted(inventory.hosts_at(file, offset)):
            if name in by_host.get(host, set()):
                continue
            unseen = inventory.hosts[host].unseen(but_sops_nix=True)
            computing = computing_for(ctx, host)
            lead = "cannot verify: " if unseen or computing else ""
            because = (
                f"; discovery could not follow all of its modules ({unseen[0]})" if unseen else ""
            )
            if computing:
                because += f"; {computing} computes sops.secrets names it may declare"
            results.append(
                CheckResult(
                    "nix-secret-refs",
                    False,
                    f'{lead}{file}:{line}: host {host} reads config.sops.secrets."{name}", '
                    f"which only other hosts' modules declare ({where[name]}){because}: "
                    f"{host} does not evaluate (attribute missing)",
                    f'declare sops.secrets."{name}" in a module of {host} too, with its own '
                    "sopsFile (secretkit set <that file> stores the value), or move the "
                    f"declaration into a module every host reading it imports",
                    (file,),
                )
            )
    return results
