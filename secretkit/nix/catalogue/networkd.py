"""systemd-networkd WireGuard: ``wireguardConfig.PrivateKey`` / a peer's
``PresharedKey`` → ``PrivateKeyFile`` / ``PresharedKeyFile``, read by
systemd-networkd, which runs as ``systemd-network``."""

from __future__ import annotations

from secretkit.nix.catalogue.base import Reader, Site, Source, slug
from secretkit.nix.catalogue.sibling import Row, SiblingFile


def _name(site: Site) -> str:
    netdev = slug(site.path[3])
    if site.path[-1] == "PrivateKey":
        return f"wireguard/{netdev}/private-key"
    peer = next((p.strip("[]") for p in site.path if p.startswith("[")), "0")
    return f"wireguard/{netdev}/peer-{peer}/preshared-key"


ENTRY = SiblingFile(
    key="networkd-wireguard",
    description=(
        "systemd.network.netdevs.<n>.wireguardConfig.PrivateKey / peers' PresharedKey → "
        "*File (owner systemd-network)"
    ),
    reader=Reader(
        "daemon",
        Source(
            # a systemd fork (the stored systemd/systemd copy predates [WireGuard]); the
            # sentence read is PresharedKeyFile='s, PrivateKeyFile= is not in the read span
            "mightysai1997/systemd",
            "dca2112b17e3e3a12c2b997f1d097291fa737194",
            "man/systemd.netdev.xml",
            "the file must be readable by the user <literal>systemd-network</literal>",
        ),
        since="20.09",
        owner='"systemd-network"',
    ),
    rows=(
        Row(
            "systemd.network.netdevs.*.wireguardConfig.PrivateKey",
            "PrivateKeyFile",
            "systemd-networkd.service",
        ),
        Row(
            "systemd.network.netdevs.*.wireguardPeers.[].PresharedKey",
            "PresharedKeyFile",
            "systemd-networkd.service",
        ),
        Row(
            "systemd.network.netdevs.*.wireguardPeers.[].wireguardPeerConfig.PresharedKey",
            "PresharedKeyFile",
            "systemd-networkd.service",
        ),
    ),
    name_of=_name,
)
