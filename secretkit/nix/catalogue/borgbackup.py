"""borgbackup job passphrases → ``passCommand = "cat …"``."""

from __future__ import annotations

import re
from collections.abc import Sequence

from secretkit.nix import emit
from secretkit.nix.catalogue.base import (
    NIXPKGS,
    Reader,
    Refusal,
    Rewrite,
    Site,
    Source,
    match,
    rebind,
    replace_literal,
    slug,
    user_option_reader,
)
from secretkit.sensitive import Sensitive


class Borgbackup:
    key = "borgbackup-passphrase"
    description = 'borg encryption.passphrase / passCommand = "echo …" → passCommand = "cat …"'
    reader = Reader(
        "root",
        Source(
            NIXPKGS,
            "0111e9547e857021a3cdab7ac5ba85707cccd654",
            "nixos/modules/services/backup/borgbackup.nix",
            "{ BORG_PASSCOMMAND = passCommand; } … serviceConfig = { User = cfg.user; "
            '(user: default = "root")',
        ),
        since="18.03",
    )
    # (its value runs "cat <path>": a bare path there would be run as the command)
    wrapped_targets = ("services.borgbackup.jobs.*.encryption.passCommand",)
    _echo = re.compile(r"""^\s*echo\s+(?:-n\s+)?(['"]?)(.+?)\1\s*$""", re.S)

    def matches(self, path: Sequence[str]) -> bool:
        return match("services.borgbackup.jobs.*.encryption.passphrase|passCommand", path)

    def target_reader(self, path: Sequence[str]) -> Reader | None:
        """Who reads the file a job's ``passCommand`` cats: borg runs it as the job's
        ``user`` (root unless set): the owner check holds a declaration to it."""
        if not match("services.borgbackup.jobs.*.encryption.passCommand", path):
            return None
        return user_option_reader(self.reader, [*path[:4], "user"])

    def name(self, site: Site) -> str:
        return f"borg/{slug(site.path[3])}/passphrase"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        command = emit.nix_string("cat ")[:-1] + "${" + emit.secret_ref(name) + '}"'
        owner_name = site.sibling_string(2, "user")
        owner = emit.nix_string(owner_name) if owner_name else None
        if site.path[-1] == "passphrase":
            if site.literal != site.secret.reveal():
                return Refusal("the secret is only part of the string")
            sibling = (*site.path[:-1], "passCommand")
            if site.has_option(sibling):
                return Refusal("encryption.passCommand is set as well")
            edits = rebind(site, "passCommand", command)
            if isinstance(edits, Refusal):
                return edits
            return Rewrite(
                site.secret, edits, "encryption.passCommand", owner=owner, defines=[sibling]
            )
        found = self._echo.match(site.literal)
        if not found or "$" in found[2] or "`" in found[2]:
            return Refusal("passCommand is not a plain `echo <passphrase>`")
        return Rewrite(
            Sensitive(found[2]),
            [replace_literal(site, command)],
            "encryption.passCommand",
            owner=owner,
        )
