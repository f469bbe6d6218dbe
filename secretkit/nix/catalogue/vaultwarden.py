"""Vaultwarden: secrets in ``config`` (``ADMIN_TOKEN``, ``SMTP_PASSWORD``, …) →
``environmentFile``.  The module turns ``config`` into an env file itself and gives
systemd ``EnvironmentFile = [ configFile ] ++ [ environmentFile ]``: the later file
wins, and systemd (root) reads both."""

from __future__ import annotations

from secretkit.nix.catalogue.base import NIXPKGS, Reader, Source
from secretkit.nix.catalogue.envfile import EnvRow, EnvTemplate

ENTRY = EnvTemplate(
    key="vaultwarden-config",
    description="services.vaultwarden.config.<SECRET> → environmentFile (env template)",
    reader=Reader(
        "systemd",
        Source(
            NIXPKGS,
            "01f31c2ee7d045a337dff0f858c0ed61dd0f4ddb",
            "nixos/modules/services/security/vaultwarden/default.nix",
            "EnvironmentFile = [ configFile ] ++ optional (cfg.environmentFile != null) "
            "cfg.environmentFile;",
        ),
        since="21.05",
    ),
    rows=(
        EnvRow(
            "services.vaultwarden.config.*",
            ("services", "vaultwarden", "environmentFile"),
            "vaultwarden.env",
            "vaultwarden.service",
        ),
    ),
    prefix="vaultwarden",
)
