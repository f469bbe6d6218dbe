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
    from secretkit.nix.sops_refs import Declaration


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


def opaque_references(ctx: CheckContext) -> list[CheckResult]:
    """``config.sops.secrets."${…}"`` whose name no ``let`` of its file settles, in a
    file a host imports (or may import).  A name built from the host's own name
    (``"${config.networking.hostName}/wg"``) is checked for each host reading it; for
    any other, whether anything declares it is not known: "cannot verify"."""
    from secretkit.nix.sops_refs import HOST

    inventory = ctx.inventory()
    out = []
    for file, offset, line, written, per_host in ctx.nix().opaque_references:
        hosts = inventory.hosts_at(file, offset)
        if not hosts and not any(h.unseen(but_sops_nix=True) for h in inventory.hosts.values()):
            continue  # (no host reads the file: the point's note counts it as not checked)
        if per_host is not None and hosts:
            for host in sorted(hosts):
                out += _host_reference(ctx, file, line, written, per_host.replace(HOST, host), host)
            continue
        out.append(
            CheckResult(
                "nix-secret-refs",
                False,
                f"cannot verify: {file}:{line}: config.sops.secrets.{written}: its name is "
                "computed from what secretkit does not evaluate (a function's argument, "
                "another attribute), so whether a declaration gives it, and from which "
                "file, is not known",
                "write the name out as a string, or bind each part with a let in this file "
                '(let app = "radarr"; in … "${app}"), which check reads',
                (file,),
                "a reference whose name is computed",
            )
        )
    return out


def _host_reference(
    ctx: CheckContext, file: str, line: int, written: str, name: str, host: str
) -> list[CheckResult]:
    """The checks of a by-name reference, for the name ``written`` is on ``host``."""
    from secretkit.nix.sops_refs import HOST

    facts = ctx.nix()
    if name in {d.name for d in facts.declarations}:
        return []
    inventory = ctx.inventory()
    for d in facts.computed_declarations:  # ("${config.networking.hostName}/x" = { … })
        same = d.per_host is not None and d.per_host.replace(HOST, host) == name
        if same and host in inventory.hosts_at(d.file, d.offset):
            return []
    stored = clan_store(ctx, name, {host})
    if stored is not False:
        return [] if stored is True else [stored]
    computing = computing_for(ctx, host)
    if computing is not None:
        return [may_be_computed(file, line, name, computing)]
    return [
        CheckResult(
            "nix-secret-refs",
            False,
            f'{file}:{line}: config.sops.secrets.{written} is "{name}" on host {host}, and '
            "no module declares it",
            f'declare it for {host}: sops.secrets."{name}" = {{ sopsFile = <the sops file of '
            f"{host} holding it>; }}; (or by the same expression: "
            f"sops.secrets.{written} = {{ … }};)",
            (file,),
        )
    ]


def keyed(declarations: list[Declaration]) -> list[Declaration]:
    """The declarations whose key is known (written out or settled by a let)."""
    return [d for d in declarations if d.key is not None or d.key_text is None]


def not_settled(ctx: CheckContext) -> list[CheckResult]:
    """References and keys whose computed names nothing here settles: "cannot verify"."""
    return opaque_references(ctx) + [
        CheckResult(
            "nix-secret-refs",
            False,
            f'cannot verify: {d.file}: sops.secrets."{d.name}".key = {d.key_text}: it is '
            "computed from what secretkit does not evaluate, so whether the sops file holds "
            "it is not known",
            "write the key out as a string, or bind each part with a let in this file, which "
            "check reads",
            (d.file,),
            "a secret whose key is computed",
        )
        for d in ctx.nix().declarations
        if d.key is None and d.key_text is not None
    ]
