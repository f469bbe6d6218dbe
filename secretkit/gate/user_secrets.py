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
            option = _through_let(ctx, file, offset)  # (let pw = config.sops.secrets.x;)
        if option is None or option.rsplit(".", 1)[-1] not in _READ_AS_USERS:
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


def _through_let(ctx: CheckContext, file: str, offset: int) -> str | None:
    """The user's password option given ``<name>.path`` where the reference at
    ``offset`` is the whole value of ``let <name> = config.sops.secrets.<s>;``."""
    from secretkit.gate.option_values import innermost, option_bindings
    from secretkit.nix import cst

    tree, bindings = option_bindings(ctx, file)
    held = innermost(bindings, offset)
    if held is None:
        return None
    binding = held[0]
    value = cst.unwrap(binding.value)
    scope = binding.value.parent
    while scope is not None and scope.type not in ("let_expression", "attrset_expression"):
        scope = scope.parent
    if scope is None or scope.type != "let_expression" or len(binding.attrpath) != 1:
        return None
    if value is None or value.start_byte != offset:
        return None  # (the reference is not the whole value)
    wanted = f"{binding.attrpath[0]}.path"
    for other, path in bindings:
        given = cst.unwrap(other.value)
        reads = path[:2] == ["users", "users"] and path[-1:] and path[-1] in _READ_AS_USERS
        if reads and given is not None and str(cst.node_text(tree, given)) == wanted:
            return ".".join(path)
    return None
