"""Forgejo: ``settings.<section>.<KEY>`` secrets → ``secrets.<section>.<KEY> = <path>``.

The module hands every ``secrets`` file to the unit through ``LoadCredential`` and
splices it into ``app.ini`` at start (``environment-to-ini``); ``secrets`` wins over
``settings``.  systemd reads the file: root-owned is right."""

from __future__ import annotations

from collections.abc import Sequence

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

# Set by the module in services.forgejo.secrets (files it generates in customDir/conf).
_MODULE_SECRETS = {
    ("security", "SECRET_KEY"),
    ("security", "INTERNAL_TOKEN"),
    ("oauth2", "JWT_SECRET"),
    ("server", "LFS_JWT_SECRET"),
}


class ForgejoSecrets:
    key = "forgejo-secrets"
    description = (
        "services.forgejo.settings.<section>.<KEY> → services.forgejo.secrets.<section>.<KEY> "
        "(LoadCredential: systemd reads)"
    )
    reader = Reader(
        "systemd",
        Source(
            NIXPKGS,
            "011e8fecdd11df8cea8c6d1135858bd23da7147f",
            "nixos/modules/services/misc/forgejo.nix",
            '# cfg.secrets … LoadCredential = map (e: "${e.env}:${e.path}") secrets;',
        ),
        since="24.05",
    )

    def matches(self, path: Sequence[str]) -> bool:
        return match("services.forgejo.settings.*.*", path)

    def name(self, site: Site) -> str:
        return f"forgejo/{slug(site.path[3])}/{slug(site.path[4])}"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        section, key = site.path[3], site.path[4]
        if (section, key) in _MODULE_SECRETS:
            return Refusal(
                f"the module itself sets services.forgejo.secrets.{section}.{key} (a file it "
                "generates), so a second definition would conflict",
                manual=f"services.forgejo.secrets.{section}.{key} = lib.mkForce "
                f'config.sops.secrets."{name}".path;  (or drop the literal and let the module '
                "generate the value)",
            )
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        binding = site.binding
        if binding is None:
            return Refusal("the secret is not the whole value of an attribute")
        target = ("services", "forgejo", "secrets", site.path[3], site.path[4])
        return Rewrite(
            site.secret,
            [delete_node(site.tree, binding)],
            ".".join(target[2:]),
            restart_units=("forgejo.service",),
            options=[OptionSpec(target, emit.secret_ref(name), True)],
            defines=[target],
        )


ENTRY = ForgejoSecrets()
