"""cloudflare-dyndns: the API token → ``apiTokenFile``, which the module hands to
systemd as ``EnvironmentFile`` — so the file holds ``CLOUDFLARE_API_TOKEN=…``, not the
bare token (a bare token file would start the unit without a token)."""

from __future__ import annotations

from secretkit.nix.catalogue.base import NIXPKGS, Reader, Source
from secretkit.nix.catalogue.envfile import EnvRow, EnvTemplate

ENTRY = EnvTemplate(
    key="cloudflare-dyndns-token",
    description="services.cloudflare-dyndns.apiToken → apiTokenFile (CLOUDFLARE_API_TOKEN=…)",
    reader=Reader(
        "systemd",
        Source(
            NIXPKGS,
            "01f31c2ee7d045a337dff0f858c0ed61dd0f4ddb",
            "nixos/modules/services/networking/cloudflare-dyndns.nix",
            "EnvironmentFile = cfg.apiTokenFile;",
        ),
        since="22.05",
    ),
    rows=(
        EnvRow(
            "services.cloudflare-dyndns.apiToken",
            ("services", "cloudflare-dyndns", "apiTokenFile"),
            "cloudflare-dyndns.env",
            "cloudflare-dyndns.service",
            var=lambda _site: "CLOUDFLARE_API_TOKEN",
        ),
    ),
    prefix="cloudflare-dyndns",
)
