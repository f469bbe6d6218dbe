"""WireGuard keys → ``privateKeyFile`` / ``presharedKeyFile``.

networking.wireguard has two backends: the scripted one (root's ``wireguard-<i>``
unit runs ``wg set … private-key <file>``) and, with
``networking.wireguard.useNetworkd``, systemd-networkd (the file is the netdev's
``PrivateKeyFile=``, read as ``systemd-network``; no ``wireguard-<i>`` unit:
:data:`NETWORKD_SOURCE`).  Which one a host runs is its configuration's choice, so
the declaration's owner and restartUnits are Nix that asks it."""

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


class Wireguard:
    key = "wireguard-keys"
    description = "WireGuard privateKey / presharedKey → privateKeyFile / presharedKeyFile"
    reader = Reader(
        "root",
        Source(
            NIXPKGS,
            "0056e44b7f3674b1ab893335c312d799f6f5bae4",
            "nixos/modules/services/networking/wireguard.nix",
            "privKey = if values.privateKeyFile != null then values.privateKeyFile … "
            "[ ''${wg} set \"${name}\" private-key \"${privKey}\"'' ]",
        ),
        since="18.09",
    )

    def matches(self, path: Sequence[str]) -> bool:
        return match("networking.wireguard|wg-quick.interfaces.*.privateKey", path) or match(
            "networking.wireguard|wg-quick.interfaces.*.peers.[].presharedKey", path
        )

    def name(self, site: Site) -> str:
        iface = slug(site.path[3])
        if site.path[-1] == "privateKey":
            return f"wireguard/{iface}/private-key"
        peer = site.sibling_string(1, "name") or f"peer-{site.path[5].strip('[]')}"
        return f"wireguard/{iface}/{slug(peer)}/preshared-key"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        new = site.path[-1] + "File"
        sibling = (*site.path[:-1], new)
        if site.has_option(sibling):
            return Refusal(f"{new} is set as well")
        edits = rebind(site, new, emit.secret_ref(name))
        if isinstance(edits, Refusal):
            return edits
        # the unit that reads the key: wireguard-<i> (networking.wireguard) or
        # wg-quick-<i> (a oneshot that stays active: a restart is `wg-quick down; up`)
        unit = f"{'wireguard' if site.path[1] == 'wireguard' else 'wg-quick'}-{site.path[3]}"
        if site.path[1] == "wireguard":
            # networkd's backend hands the file to systemd-networkd (PrivateKeyFile=), which
            # reads it as systemd-network, and makes no wireguard-<i> unit: both are the
            # host's own choice, so the declaration asks its configuration
            return Rewrite(
                site.secret,
                edits,
                new,
                owner=f'if {NETWORKD} then "systemd-network" else "root"',
                restart_expr=(
                    f'if {NETWORKD} then [ "systemd-networkd.service" ] else [ "{unit}.service" ]'
                ),
                defines=[sibling],
            )
        return Rewrite(
            site.secret,
            edits,
            new,
            restart_units=(f"{unit}.service",),
            defines=[sibling],
        )


# networking.wireguard.useNetworkd (NixOS 25.05 on; `or`: false on a release without it)
NETWORKD = "config.networking.wireguard.useNetworkd or false"
# the networkd backend: privateKeyFile / presharedKeyFile become the netdev's
# PrivateKeyFile= / PresharedKeyFile= (systemd.netdev(5): "must be readable by the user
# systemd-network"; networkd.py's source), and no wireguard-<i> unit is made
NETWORKD_SOURCE = Source(
    NIXPKGS,
    "0586ddf7fdc8d15f1efe8b4954e00f3753832cc3",
    "nixos/modules/services/networking/wireguard-networkd.nix",
    "PrivateKeyFile = interface.privateKeyFile; … PresharedKeyFile = peer.presharedKeyFile;",
)
