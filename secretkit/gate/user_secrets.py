"""A user's password read from a sops secret: sops-nix writes secrets after users are
made, except those with ``neededForUsers = true`` (sops-nix modules/sops: the
``setupSecretsForUsers`` activation step, before ``users``).  Without it the file is
missing when the account is created: a locked account on a new install, or with
``users.mutableUsers = false``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from secretkit.gate.model import CheckResult

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext
    from secretkit.nix.sops_refs import Declaration

_READ_AS_USERS = ("hashedPasswordFile", "passwordFile")  # users.users.<u>.…


def option_at(ctx: CheckContext, file: str, offset: int) -> str | None:
    """The option whose value holds the reference at ``offset`` of ``file``."""
    path = option_path_at(ctx, file, offset)
    return ".".join(path) if path else None


def option_path_at(ctx: CheckContext, file: str, offset: int) -> list[str] | None:
    """:func:`option_at` as its attribute names (a name may hold a dot:
    ``virtualHosts."status.example.org"``)."""
    from secretkit.nix import cst
    from secretkit.nix.sops_refs import option_path

    data = ctx.read(file)
    if data is None:
        return None
    inner = [b for b in cst.bindings(cst.parse(data)) if b.start <= offset < b.end]
    if not inner:
        return None
    return option_path(min(inner, key=lambda b: b.end - b.start)) or None


def password_files_too_late(ctx: CheckContext) -> list[CheckResult]:
    """``users.users.<u>.hashedPasswordFile = config.sops.secrets.<s>.path`` where no
    declaration of ``<s>`` sets ``neededForUsers = true``."""
    facts = ctx.nix()
    inventory = ctx.inventory()
    # the hosts each declaration reaches ("": one no host is known to use, read for all)
    early: dict[str, set[str]] = {}
    for decl in facts.declarations:
        if decl.for_users:
            reach = inventory.hosts_at(decl.file, decl.offset) or {""}
            early.setdefault(decl.name, set()).update(reach)
    declared = {d.name for d in facts.declarations}
    results = []
    for name, file, offset, line in facts.references:
        if name not in declared:
            continue  # (an undeclared name is nix-secret-refs' own failure)
        hosts = inventory.hosts_at(file, offset)
        reach = early.get(name, set())
        if "" in reach or (reach and (not hosts or hosts <= reach)):
            continue  # (declared neededForUsers on every host that reads it)
        option = option_at(ctx, file, offset)
        if option is None or not option.startswith("users.users."):
            continue
        if option.rsplit(".", 1)[-1] not in _READ_AS_USERS:
            continue
        elsewhere = sorted(  # (set where no host is known: it may be this one's)
            f for f in facts.needed_anywhere.get(name, ()) if not inventory.hosts_of_file(f)
        )
        if elsewhere:  # (set in code discovery could not place as a host's module)
            results.append(
                CheckResult(
                    "nix-secret-refs",
                    False,
                    f'cannot verify: {file}:{line}: {option} reads config.sops.secrets."{name}"'
                    f".path; neededForUsers is set for it only in {', '.join(elsewhere)}, "
                    "which secretkit could not place among a host's modules",
                    f'set neededForUsers = true; in the sops.secrets."{name}" declaration of a '
                    "module secretkit reads as the host's (`secretkit hosts list`), then run "
                    "secretkit check again",
                    (file, *elsewhere),
                )
            )
            continue
        without = sorted(hosts - reach) if reach else []
        on = f" on host(s) {', '.join(without)}" if without else ""
        results.append(
            CheckResult(
                "nix-secret-refs",
                False,
                f'{file}:{line}: {option} reads config.sops.secrets."{name}".path, which '
                f"sops-nix writes{on} only after users are made: the account is created "
                "without its password (locked on a new install)",
                f'add neededForUsers = true; to sops.secrets."{name}" (and no owner: sops-nix '
                "keeps those root's)",
                (file,),
            )
        )
    return results


def owned_for_users(ctx: CheckContext) -> list[CheckResult]:
    """A ``neededForUsers`` secret a host's modules give an owner or group other than
    root: sops-nix asserts against it ("neededForUsers cannot be used for secrets that
    are not root-owned": Mic92/sops-nix@56b24064fdcaedca53553b1a6d607fd23b613a24,
    modules/sops/secrets-for-users/default.nix, since 00071af8 of 2024-02-08), so the
    host does not build."""
    from secretkit.gate.module_sites import line_of

    facts = ctx.nix()
    inventory = ctx.inventory()
    by_name: dict[str, list[Declaration]] = {}
    for decl in facts.declarations:
        by_name.setdefault(decl.name, []).append(decl)
    results = []
    said: set[tuple[str, str]] = set()
    for name, decls in sorted(by_name.items()):
        if not any(d.for_users for d in decls):
            continue
        hosts = sorted({h for d in decls for h in inventory.hosts_at(d.file, d.offset)}) or [""]
        for host in hosts:
            mine = [d for d in decls if not host or host in inventory.hosts_at(d.file, d.offset)]
            if not any(d.for_users for d in mine):
                continue
            for field in ("owner", "group"):
                owned = next((d for d in mine if getattr(d, field) not in (None, '"root"')), None)
                if owned is None or (owned.file, field) in said:
                    continue
                decl = owned
                said.add((decl.file, field))
                at = f"{decl.file}:{line_of(ctx, decl.file, decl.offset)}"
                value = getattr(decl, field)
                results.append(
                    CheckResult(
                        "nix-secret-refs",
                        False,
                        f'{at}: sops.secrets."{name}" sets neededForUsers = true and '
                        f"{field} = {value}; sops-nix asserts such secrets are root's "
                        '("neededForUsers cannot be used for secrets that are not '
                        'root-owned"): the host does not build',
                        f'take {field} = {value}; out of sops.secrets."{name}" ({at}): NixOS '
                        "reads the password file as root when it makes the user",
                        (decl.file,),
                    )
                )
    return results
