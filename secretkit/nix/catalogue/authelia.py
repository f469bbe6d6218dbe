"""Authelia: the secrets of ``services.authelia.instances.<i>.settings`` → the
instance's ``secrets.*File`` options or a ``*_FILE`` variable of ``environmentVariables``.

The module hands each file to Authelia as an ``AUTHELIA_…_FILE`` variable and runs the
unit as the instance's ``user`` (``authelia-<i>`` by default), which opens the file
itself: the secret's owner is that user (sops-nix's root-only default stopped a
stranger's Authelia, given its ``jwtSecretFile`` root-owned)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from secretkit.nix import emit
from secretkit.nix.catalogue.base import (
    NIXPKGS,
    OptionSpec,
    Reader,
    Refusal,
    Rewrite,
    Site,
    Source,
    delete_node,
    match,
    slug,
)

# the secret's option → (the option below the instance that takes its file, the secret's
# name below authelia/<instance>/)
_ROUTES: dict[str, tuple[tuple[str, str], str]] = {
    "services.authelia.instances.*.settings.identity_providers.oidc.hmac_secret": (
        ("secrets", "oidcHmacSecretFile"),
        "oidc-hmac-secret",
    ),
    "services.authelia.instances.*.settings.identity_validation.reset_password.jwt_secret": (
        ("secrets", "jwtSecretFile"),
        "jwt-secret",
    ),
    "services.authelia.instances.*.settings.jwt_secret": (
        ("secrets", "jwtSecretFile"),
        "jwt-secret",
    ),
    "services.authelia.instances.*.settings.session.secret": (
        ("secrets", "sessionSecretFile"),
        "session-secret",
    ),
    "services.authelia.instances.*.settings.storage.encryption_key": (
        ("secrets", "storageEncryptionKeyFile"),
        "storage-encryption-key",
    ),
    "services.authelia.instances.*.settings.notifier.smtp.password": (
        ("environmentVariables", "AUTHELIA_NOTIFIER_SMTP_PASSWORD_FILE"),
        "smtp-password",
    ),
    "services.authelia.instances.*.settings.storage.postgres.password": (
        ("environmentVariables", "AUTHELIA_STORAGE_POSTGRES_PASSWORD_FILE"),
        "postgres-password",
    ),
    "services.authelia.instances.*.settings.authentication_backend.ldap.password": (
        ("environmentVariables", "AUTHELIA_AUTHENTICATION_BACKEND_LDAP_PASSWORD_FILE"),
        "ldap-password",
    ),
}


class AutheliaSecrets:
    key = "authelia-secrets"
    description = (
        "services.authelia.instances.<i>.settings secrets (OIDC HMAC, JWT, session, storage "
        "key, SMTP/LDAP/Postgres passwords) → secrets.*File or an AUTHELIA_…_FILE variable "
        "(owner: the instance's user)"
    )
    reader = Reader(
        "daemon",
        Source(
            NIXPKGS,
            "0148e16d1446003704803ecabb5a00cfea7d8568",
            "nixos/modules/services/security/authelia.nix",
            'user = mkOption { default = "authelia-${name}"; … '
            "AUTHELIA_IDENTITY_PROVIDERS_OIDC_HMAC_SECRET_FILE = instance.secrets."
            "oidcHmacSecretFile; … // instance.environmentVariables; … User = instance.user;",
        ),
        since="23.05",
    )

    def matches(self, path: Sequence[str]) -> bool:
        return _route(path) is not None

    def name(self, site: Site) -> str:
        found = _route(site.path)
        return f"authelia/{slug(site.path[3])}/{found[1] if found else 'secret'}"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        found = _route(site.path)
        if found is None:
            return Refusal(f"{'.'.join(site.path)} is not a secret authelia reads from a file")
        route, instance = found[0], site.path[3]
        target = ("services", "authelia", "instances", instance, *route)
        owner = f"config.services.authelia.instances.{emit.attr(instance)}.user"
        manual = (
            f"{emit.attrpath(target)} = {emit.secret_ref(name)}; with owner = {owner}; in its "
            "declaration, and the literal removed"
        )
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string", manual=manual)
        binding = site.binding
        if binding is None:
            return Refusal("the secret is not the whole value of an attribute", manual=manual)
        return Rewrite(
            site.secret,
            [delete_node(site.tree, binding)],
            ".".join(route),
            owner=owner,
            restart_units=(f"authelia-{instance}.service",),
            options=[OptionSpec(target, emit.secret_ref(name), True)],
            defines=[target],
        )

    def target_reader(self, path: Sequence[str]) -> Reader | None:
        """The reader of a file option the routes write (``secrets.jwtSecretFile``,
        ``environmentVariables.AUTHELIA_…_FILE``), given something else than a sops
        secret (``pkgs.writeText``): the instance's user."""
        if len(path) != 6 or tuple(path[:3]) != ("services", "authelia", "instances"):
            return None
        if (path[4], path[5]) not in {route for route, _name in _ROUTES.values()}:
            return None
        owner = f"config.services.authelia.instances.{emit.attr(path[3])}.user"
        return replace(self.reader, owner=owner)


def _route(path: Sequence[str]) -> tuple[tuple[str, str], str] | None:
    return next((route for pattern, route in _ROUTES.items() if match(pattern, path)), None)


ENTRY = AutheliaSecrets()
