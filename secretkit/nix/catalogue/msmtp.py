"""msmtp accounts: ``password`` (written to ``/etc/msmtprc``) or ``passwordeval = "echo …"``
→ ``passwordeval = "cat <secret> && echo"``.

msmtp runs as whoever sends mail (the module's sendmail wrapper is not setuid), so
the reader is the sending user: root for system mail (smartd, ZED, …).  A user who
sends mail needs group access: set the secret's ``group`` and ``mode = "0440"``.
The module asks for a password file ending in a newline: ``&& echo`` adds it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from secretkit.lazy_re import lazy
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
)
from secretkit.sensitive import Sensitive

_ECHO = lazy(r"""^\s*echo\s+(?:-n\s+)?(['"]?)(.+?)\1\s*$""", re.S)


class Msmtp:
    key = "msmtp-password"
    description = (
        'programs.msmtp.accounts.<a>.password / passwordeval = "echo …" → passwordeval = '
        '"cat <secret> && echo" (the sending user reads it: root for system mail)'
    )
    reader = Reader(
        "root",
        Source(
            NIXPKGS,
            "037a4b4e30409cc12f6a9a72c40a42db1193a385",
            "nixos/modules/programs/msmtp.nix",
            'services.mail.sendmailSetuidWrapper = … setuid = false; … owner = "root";',
        ),
        since="19.09",
    )

    def matches(self, path: Sequence[str]) -> bool:
        return match("programs.msmtp.accounts.*.password|passwordeval", path)

    def name(self, site: Site) -> str:
        return f"msmtp/{slug(site.path[3])}/password"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        command = '"cat ${' + emit.secret_ref(name) + '} && echo"'
        if site.path[-1] == "password":
            if site.literal != site.secret.reveal():
                return Refusal("the secret is only part of the string")
            sibling = (*site.path[:-1], "passwordeval")
            if site.has_option(sibling):
                return Refusal("passwordeval is set as well")
            edits = rebind(site, "passwordeval", command)
            if isinstance(edits, Refusal):
                return edits
            return Rewrite(
                site.secret, edits, "passwordeval (cat)", defines=[sibling], note=_note(name)
            )
        found = _ECHO.match(site.literal)
        if not found or "$" in found[2] or "`" in found[2]:
            return Refusal("passwordeval is not a plain `echo <password>`")
        return Rewrite(
            Sensitive(found[2]), [replace_literal(site, command)], "passwordeval (cat)",
            note=_note(name),
        )  # fmt: skip


def _note(name: str) -> str:
    """msmtp runs as the sender: /etc/msmtprc was readable by every user, the secret is
    root's alone."""
    return (
        "msmtp reads its password as the user who sends mail: only root's mail (smartd, "
        f'ZED …) gets it now; for a user who sends mail, set sops.secrets."{name}".group = '
        '"<a group of theirs>"; and mode = "0440";'
    )


ENTRY = Msmtp()
