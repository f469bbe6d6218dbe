"""cloudflared tunnel credentials (the tunnel's JSON) given as ``pkgs.writeText`` →
a sops secret or template; the unit gets it through ``LoadCredential`` (root)."""

from __future__ import annotations

from secretkit.nix.catalogue.base import NIXPKGS, Reader, Source
from secretkit.nix.catalogue.write_text import WriteTextRoute

ENTRY = WriteTextRoute(
    key="cloudflared-credentials",
    description=(
        "services.cloudflared.tunnels.<id>.credentialsFile / certificateFile given "
        "pkgs.writeText → sops secret or template (LoadCredential: systemd reads)"
    ),
    reader=Reader(
        "systemd",
        Source(
            NIXPKGS,
            "06bf1a1a2aa648391e629b9efddd35dc63459bbc",
            "nixos/modules/services/networking/cloudflared.nix",
            "(lib.optional (tunnel.credentialsFile != null) "
            '"credentials.json:${tunnel.credentialsFile}") … DynamicUser = true;',
        ),
        since="23.05",
    ),
    patterns=(
        "services.cloudflared.tunnels.*.credentialsFile",
        "services.cloudflared.certificateFile",
        "services.cloudflared.tunnels.*.certificateFile",
    ),
    unit="cloudflared-tunnel-{3}.service",
)
