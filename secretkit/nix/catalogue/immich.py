"""Immich: secrets in ``services.immich.environment`` (``DB_PASSWORD``, API keys, …) →
``secretsFile``, which the module gives ``immich-server`` as its ``EnvironmentFile``
(read by systemd).  The option's type rejects Nix path literals on purpose; the
template path is a string."""

from __future__ import annotations

from secretkit.nix.catalogue.base import NIXPKGS, Reader, Source
from secretkit.nix.catalogue.envfile import EnvRow, EnvTemplate

ENTRY = EnvTemplate(
    key="immich-environment",
    description="services.immich.environment.<VAR> → secretsFile (env template, systemd reads)",
    reader=Reader(
        "systemd",
        Source(
            NIXPKGS,
            "000dc781597605959296f6e477c8d6f0018521c7",
            "nixos/modules/services/web-apps/immich.nix",
            "EnvironmentFile = mkIf (cfg.secretsFile != null) cfg.secretsFile;",
        ),
        since="24.11",
    ),
    rows=(
        EnvRow(
            "services.immich.environment.*",
            ("services", "immich", "secretsFile"),
            "immich.env",
            "immich-server.service",
        ),
    ),
    prefix="immich",
)
