"""NetworkManager ensureProfiles secrets → ``$VAR`` + ``environmentFiles``."""

from __future__ import annotations

from collections.abc import Sequence

from secretkit.nix import emit
from secretkit.nix.catalogue.base import (
    Reader,
    Refusal,
    Rewrite,
    Site,
    Source,
    TemplateLine,
    env_safe,
    env_var,
    match,
    replace_literal,
    slug,
)


class NetworkManager:
    key = "networkmanager-profile"
    description = (
        "NetworkManager ensureProfiles secrets (wifi psk, 802.1x password) → $VAR + "
        "ensureProfiles.environmentFiles from a sops template"
    )
    reader = Reader(
        "root",
        Source(
            "infinixbot/nixpkgs",  # a nixpkgs mirror; NixOS/nixpkgs's stored copy predates it
            "81fe397de935f8b2f3801a3cc39de7e26a2df842",
            "nixos/modules/services/networking/networkmanager.nix",
            # NetworkManager-ensure-profiles sets no User=: a root oneshot
            "EnvironmentFile = cfg.ensureProfiles.environmentFiles;",
        ),
        since="23.11",
    )

    def matches(self, path: Sequence[str]) -> bool:
        return match("networking.networkmanager.ensureProfiles.profiles.*.*.*", path) and (
            path[5] in ("wifi-security", "802-1x", "vpn-secrets", "wireguard")
        )

    def name(self, site: Site) -> str:
        return f"networkmanager/{slug(site.path[4])}/{slug(site.path[6])}"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        if not env_safe(site.secret):
            return Refusal("the value has characters an environment file cannot carry")
        var = env_var(name.removeprefix("networkmanager/"))
        option = ("networking", "networkmanager", "ensureProfiles", "environmentFiles")
        return Rewrite(
            site.secret,
            [replace_literal(site, emit.nix_string("$" + var))],
            f"{site.path[-1]} = ${var} (environmentFiles)",
            template=TemplateLine(
                template="networkmanager.env",
                line=f"{var}={emit.placeholder(name)}",
                option=option,
                restart_units=("NetworkManager-ensure-profiles.service",),
                list_option=True,
            ),
        )
