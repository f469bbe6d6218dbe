"""wpa_supplicant network keys → ``pskRaw = "ext:…"`` + ``secretsFile``."""

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
    TemplateLine,
    match,
    rebind,
    slug,
)


class Wireless:
    key = "wireless-psk"
    description = 'wifi psk/pskRaw → pskRaw = "ext:…" + networking.wireless.secretsFile'
    reader = Reader(
        "daemon",
        Source(
            NIXPKGS,
            "00206ceb078a8572554b71f5428801be5a9753e3",
            "nixos/modules/services/networking/wpa_supplicant.nix",
            'User = "wpa_supplicant";',
        ),
        since="24.11",  # secretsFile + pskRaw "ext:" replaced environmentFile in 24.11
        owner='"wpa_supplicant"',
        owner_since="25.05",  # 24.11 still ran wpa_supplicant as root
    )

    def matches(self, path: Sequence[str]) -> bool:
        return match("networking.wireless.networks.*.psk|pskRaw", path)

    def name(self, site: Site) -> str:
        return f"wifi/{slug(site.path[3])}/psk"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        if "\n" in site.secret.reveal():
            return Refusal("the value spans several lines")
        ext = "psk_" + re.sub(r"[^A-Za-z0-9]+", "_", site.path[3]).strip("_").lower()
        network = site.path[:4]
        if site.path[-1] == "psk" and site.has_option((*network, "pskRaw")):
            return Refusal("pskRaw is set as well")
        edits = rebind(site, "pskRaw", emit.nix_string(f"ext:{ext}"))
        if isinstance(edits, Refusal):
            return edits
        return Rewrite(
            site.secret,
            edits,
            f'pskRaw = "ext:{ext}" (secretsFile)',
            template=TemplateLine(
                template="wireless-secrets",
                line=f"{ext}={emit.placeholder(name)}",
                option=("networking", "wireless", "secretsFile"),
            ),
            defines=[(*network, "pskRaw")] if site.path[-1] == "psk" else [],
        )
