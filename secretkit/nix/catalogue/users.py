"""User passwords → ``hashedPasswordFile`` (a crypt hash, read during activation)."""

from __future__ import annotations

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
    slug,
)
from secretkit.plan.crypt import is_crypt_hash, sha512_crypt
from secretkit.sensitive import Sensitive


class UserPassword:
    key = "user-password"
    description = "users.users.<n>.(initial)(hashed)password → hashedPasswordFile (a $6$ hash)"
    reader = Reader(
        "activation",
        Source(
            NIXPKGS,
            "master",
            "nixos/modules/config/users-groups.nix",
            "hashedPasswordFile: read by the users activation script (update-users-groups.pl)",
            read=False,
        ),
        since="23.11",
    )

    def matches(self, path: Sequence[str]) -> bool:
        return match(
            "users.users.*.password|initialPassword|hashedPassword|initialHashedPassword", path
        )

    def name(self, site: Site) -> str:
        return f"users/{slug(site.path[2])}/hashed-password"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        user = site.path[:3]
        for other in ("hashedPasswordFile", "passwordFile"):
            if site.has_option((*user, other)):
                return Refusal(f"users.users.{site.path[2]}.{other} is set as well")
        clear = site.secret.reveal()
        hashed = clear if is_crypt_hash(clear) else sha512_crypt(clear)
        edits = rebind(site, "hashedPasswordFile", emit.secret_ref(name))
        if isinstance(edits, Refusal):
            return edits
        return Rewrite(
            Sensitive(hashed),
            edits,
            "hashedPasswordFile",
            needed_for_users=True,
            defines=[(*user, "hashedPasswordFile")],
        )
