"""``service-readable`` for a home-manager module that reads a NixOS sops file through
``osConfig`` (``passwordCommand = "cat ${osConfig.sops.secrets."mail".path}"``): what a
home-manager module configures runs as its user, never as root (home-manager's
activation, its user services, the programs it configures: msmtp runs
``passwordeval`` as the user), so the file must be that user's (nix-community/
home-manager nixos/common.nix hands modules ``osConfig = config``; sops-nix makes a
secret root's, mode 0400, unless its declaration says ``owner``: Mic92/sops-nix
modules/sops/default.nix).

The user is the one of ``home-manager.users.<user>`` in the host's modules when the host
has one; with several, it is not told, and a root-owned file still fails (no user but
root could open it)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from secretkit.gate.model import CheckResult

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext

POINT = "service-readable"
_OS_REF = re.compile(
    rb'osConfig\.sops\.(secrets|templates)\.(?:"([^"\\$]+)"|([A-Za-z0-9_\'-]+))\.path\b'
)


def home_manager_reads(ctx: CheckContext) -> list[CheckResult]:
    from secretkit.gate.module_sites import line_of
    from secretkit.plan.home_manager import home_users

    inventory = ctx.inventory()
    facts = ctx.nix()
    declared = {
        "secrets": {d.name: d for d in facts.declarations},
        "templates": {d.name: d for d in facts.templates},
    }
    out: list[CheckResult] = []
    for file in ctx.files():
        data = ctx.read(file) if file.endswith(".nix") else None
        if data is None or b"osConfig.sops." not in data:
            continue
        hosts = sorted(
            h for h in inventory.hosts_of_file(file) if inventory.is_home_module(h, file)
        )
        for m in _OS_REF.finditer(data):
            kind = m.group(1).decode()
            name = (m.group(2) or m.group(3)).decode("utf-8", "replace")
            decl = declared[kind].get(name)
            if decl is None:
                continue  # (undeclared: undeclared_os_refs says so)
            if decl.others_read():
                continue  # (anyone may read it)
            group_mode = decl.mode_bits()
            if decl.group is not None and group_mode is not None and group_mode & 0o040:
                continue  # (a group that may hold the user: not told here)
            users = home_users(inventory, hosts, ctx.read)
            user = users[0] if len(users) == 1 else None
            owner = decl.owner.strip('"') if decl.owner and decl.owner.startswith('"') else None
            if decl.owner is not None and (owner is None or user is None or owner == user):
                continue  # (an owner this point cannot compare, or the user's own)
            at = f"{decl.file}:{line_of(ctx, decl.file, decl.offset)}"
            what = f'sops.{kind}."{name}"'
            line = data.count(b"\n", 0, m.start()) + 1
            made = f"owned by {owner}" if owner is not None else "root's"
            reader = f"home-manager user {user}" if user is not None else "home-manager's user"
            fix = (
                f'add owner = "{user}"; to {what} ({at})'
                if decl.owner is None and user is not None
                else f'set owner = "{user}"; in {what} ({at})'
                if user is not None
                else f"give {what} ({at}) the owner of the home-manager user whose module "
                f"{file} is (home-manager.users.<that user>)"
            )
            out.append(
                CheckResult(
                    POINT,
                    False,
                    f"{file}:{line}: a home-manager module reads {what}'s file through "
                    f"osConfig, and what it configures runs as the {reader}; the file is "
                    f"{made}, mode {(decl.mode or '0400').strip(chr(34))}: it cannot open it",
                    fix,
                    (file, decl.file),
                    group="a sops file a home-manager program reads is not its user's",
                )
            )
    return out


def undeclared_os_refs(ctx: CheckContext) -> list[CheckResult]:
    """``nix-secret-refs`` for ``osConfig.sops.secrets."<n>"`` in home-manager modules (the
    references it reads are ``config.sops.…``): a name no NixOS module declares."""
    facts = ctx.nix()
    if facts.computed_declarations:
        return []  # (one of them may declare it: said by the point as computed)
    declared = {"secrets": {d.name for d in facts.declarations}}
    declared["templates"] = {d.name for d in facts.templates}
    out = []
    for file in ctx.files():
        data = ctx.read(file) if file.endswith(".nix") else None
        if data is None or b"osConfig.sops." not in data:
            continue
        for m in _OS_REF.finditer(data):
            kind, name = m.group(1).decode(), (m.group(2) or m.group(3)).decode("utf-8", "replace")
            if name not in declared[kind]:
                out.append(_undeclared(file, data, m.start(), kind, name))
    return out


def _undeclared(file: str, data: bytes, offset: int, kind: str, name: str) -> CheckResult:
    line = data.count(b"\n", 0, offset) + 1
    what = f'sops.{kind}."{name}"'
    return CheckResult(
        "nix-secret-refs",
        False,
        f"{file}:{line}: a home-manager module reads osConfig.{what}, which no NixOS module "
        "declares: the host does not evaluate (attribute missing)",
        f"declare {what} in a NixOS module of the host (owner = the home-manager user, who "
        "reads it), and store its value with secretkit set",
        (file,),
    )
