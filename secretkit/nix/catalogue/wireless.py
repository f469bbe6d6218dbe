"""wpa_supplicant network keys → ``pskRaw = "ext:…"`` + ``secretsFile``."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import cast

from secretkit.nix import cst, emit
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


def _ext_part(network: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", network).strip("_").lower()


def _unique(site: Site, shorten: Callable[[str], str], sep: str) -> str:
    """``shorten(network)``, with a short hash of the network's own name appended when
    another network of the module shortens to the same text ("Home" and "home",
    "my-net" and "my net"): each PSK keeps its own ``ext:`` name and secret."""
    network = site.path[3]
    short = shorten(network)
    prefix = ["networking", "wireless", "networks"]
    tree = cast(cst.NixTree, site.tree)
    names = {
        b.full_path[3]
        for b in cst.bindings(tree)
        if b.full_path[:3] == prefix and len(b.full_path) > 3
    }
    if any(other != network and shorten(other) == short for other in names):
        import hashlib

        digest = hashlib.sha256(network.encode("utf-8", "surrogateescape")).hexdigest()[:8]
        return f"{short}{sep}{digest}"
    return short


# the units that read the file: it is bind-mounted when one starts (BindReadOnlyPaths),
# and their restartTriggers name only nixos.conf (wpa_supplicant.nix at the reader's
# commit: `systemd.services = if cfg.interfaces == [ ] then { wpa_supplicant = … }
# else listToAttrs (map (i: nameValuePair "wpa_supplicant-${i}" …) cfg.interfaces)`)
_IFACES = "config.networking.wireless.interfaces"
UNITS = emit.NixList(
    f'if {_IFACES} == [ ] then [ "wpa_supplicant.service" ] '
    f'else map (i: "wpa_supplicant-${{i}}.service") {_IFACES}'
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
        user_from="networking.wireless.enable",
    )

    def matches(self, path: Sequence[str]) -> bool:
        return match("networking.wireless.networks.*.psk|pskRaw", path)

    def targets(self) -> tuple[str, ...]:
        """wpa_supplicant reads the file ``secretsFile`` names."""
        return ("networking.wireless.secretsFile",)

    def name(self, site: Site) -> str:
        return f"wifi/{_unique(site, slug, '-')}/psk"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        if "\n" in site.secret.reveal():
            return Refusal("the value spans several lines")
        ext = "psk_" + _unique(site, _ext_part, "_")
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
                restart_units=(UNITS,),
            ),
            defines=[(*network, "pskRaw")] if site.path[-1] == "psk" else [],
        )
