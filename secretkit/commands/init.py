"""``secretkit init --admin R [--admin-name N]``: create ``.sops.yaml`` with the admin key.

The file goes to the repository root (git work-tree root, or the current
directory outside git).  Running it again with the same admin changes nothing;
a new admin name adds that admin (and puts it into every per-host rule, whose
files then need ``secretkit updatekeys``); an admin name already bound to a
different key is refused (exit 3).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from secretkit.commands import Line, Shown, err, out, recover_interrupted
from secretkit.errors import UserError
from secretkit.keys import sops_yaml, sops_yaml_edits
from secretkit.keys.sops_yaml_edits import Change


@dataclass(frozen=True)
class InitResult(Shown):
    path: Path
    admin_name: str
    recipient: str
    change: Change

    def lines(self) -> list[Line]:
        name = self.admin_name
        if not self.change.changed:
            return [out(f"{self.path.name}: admin {name} already present, nothing to do")]
        if self.change.created:
            return [out(f"created {self.path} with admin {name} ({self.recipient})")]
        shown = [out(f"{self.path.name}: added admin {name} ({self.recipient})")]
        if self.change.changed_rules:
            shown.append(
                err(
                    f"{len(self.change.changed_rules)} creation rule(s) changed recipients: "
                    "run `secretkit updatekeys` on their files"
                )
            )
        return shown


def default_admin_name(env: Mapping[str, str] | None = None) -> str:
    """``$USER`` (else ``$LOGNAME``, else the account's name) made anchor-safe, or
    ``admin`` (an anchor ``&admin_admin`` says nothing of whose key it is)."""
    source = env if env is not None else os.environ
    user = source.get("USER", "") or source.get("LOGNAME", "")
    if not user and env is None:
        import pwd

        try:
            user = pwd.getpwuid(os.getuid()).pw_name
        except KeyError:
            user = ""
    name = re.sub(r"[^A-Za-z0-9_-]", "_", user).strip("_-")[:63]
    return name or "admin"


def admin_recipient(text: str) -> str:
    """An ``age1…`` recipient, or an ``ssh-ed25519`` public key line converted to one."""
    if text.strip().startswith("ssh-") or " ssh-ed25519 " in f" {text.strip()} ":
        from secretkit.keys.ssh_to_age import ssh_pubkey_to_age

        return ssh_pubkey_to_age(text)
    from secretkit.sops.keysources.bech32 import Bech32Error, normalize_age_recipient

    if not text.strip().lower().startswith("age1"):  # the generic hint names --ssh-pubkey
        raise Bech32Error(
            "not an age recipient (expected age1…)",
            hint="pass your age1… public key (`secretkit keygen` prints one) "
            "or your 'ssh-ed25519 AAAA…' public key line",
        )
    return normalize_age_recipient(text)


def init(
    cwd: Path,
    admin: str,
    admin_name: str | None = None,
    env: Mapping[str, str] | None = None,
) -> InitResult:
    name = admin_name if admin_name is not None else default_admin_name(env)
    sops_yaml.validate_name(name, "admin")
    recipient = admin_recipient(admin)
    root = recover_interrupted(cwd)  # a half-done rotate/remove is rolled back first
    _refuse_in_a_clan(root, name, recipient)
    change = sops_yaml_edits.init(root, recipient, name)
    return InitResult(path=change.path, admin_name=name, recipient=recipient, change=change)


def _refuse_in_a_clan(root: Path, name: str, recipient: str) -> None:
    """A clan-core repository keeps its admins' keys in ``sops/users/<name>/key.json``
    and clan's sops module never reads ``.sops.yaml`` (badele/nix-homelab: init wrote
    an admin into a .sops.yaml left from an older layout, which nothing used)."""
    from secretkit.layouts.clan import read_clan

    clan = read_clan(root, [])
    if clan is None:
        from secretkit.nix.hosts import discover

        # (a clan whose sops/ clan has not made yet: its machines say it is one)
        if not any("clan" in host.source for host in discover(root).hosts.values()):
            return
        raise _clans_own(name, recipient)
    if any(recipient in keys for keys in clan.user_keys.values()):
        who = next(n for n, keys in clan.user_keys.items() if recipient in keys)
        raise UserError(
            f"this is a clan-core repository, and this key is clan user {who}'s already "
            "(sops/users): nothing to add",
            hint="secretkit reads clan's own files there (check, migrate's clan route)",
        )
    raise _clans_own(name, recipient)


def _clans_own(name: str, recipient: str) -> UserError:
    return UserError(
        "this is a clan-core repository: clan keeps its admins' keys in "
        f"sops/users/<name>/key.json and reads no {sops_yaml.SOPS_YAML}",
        hint=f"clan secrets users add {name} {recipient}",
    )
