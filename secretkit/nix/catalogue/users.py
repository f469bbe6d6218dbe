"""User passwords → ``hashedPasswordFile`` (a crypt hash, read during activation)."""

from __future__ import annotations

from collections.abc import Sequence

from secretkit.nix import emit
from secretkit.nix.catalogue.base import (
    Reader,
    Refusal,
    Rewrite,
    Site,
    Source,
    match,
    rebind,
    slug,
)
from secretkit.nix.catalogue.password_hash import is_crypt_hash, sha512_crypt
from secretkit.sensitive import Sensitive


class UserPassword:
    key = "user-password"
    description = "users.users.<n>.(initial)(hashed)password → hashedPasswordFile (a $6$ hash)"
    reader = Reader(
        "activation",
        Source(
            "infinixbot/nixpkgs",  # a nixpkgs mirror; NixOS/nixpkgs's stored copy predates it
            "3e5be43f9ceb1b21f83a2ecfb6fad50ce7e3480f",
            "nixos/modules/config/users-groups.nix",
            # the spec (users-groups.json) is read as root by the users activation script
            "hashedPasswordFile = mkOption { … The password file is read on each system "
            "activation.",
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


def user_password(attrpath: str | None) -> bool:
    """Whether ``attrpath`` (a finding's, dotted) is a user's password option
    (``users.users.<n>.initialPassword`` …), which goes to ``hashedPasswordFile`` as a
    crypt hash: a fix by hand stores the hash and points that option at it."""
    parts = (attrpath or "").split(".")
    parts = parts[1:] if parts[:1] == ["config"] else parts
    return len(parts) == 4 and UserPassword().matches(parts)
