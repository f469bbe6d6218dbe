"""Miniflux: the admin credentials in ``config`` → ``adminCredentialsFile`` (an
environment file, read by systemd for the ``DynamicUser`` unit)."""

from __future__ import annotations

from secretkit.nix.catalogue.base import NIXPKGS, Reader, Source
from secretkit.nix.catalogue.envfile import EnvRow, EnvTemplate

_OPTION = ("services", "miniflux", "adminCredentialsFile")

ENTRY = EnvTemplate(
    key="miniflux-admin",
    description="services.miniflux.config.ADMIN_PASSWORD → adminCredentialsFile (env template)",
    reader=Reader(
        "systemd",
        Source(
            NIXPKGS,
            "03060208ef081ca29b53dc3a223fa8b7666b1590",
            "nixos/modules/services/web-apps/miniflux.nix",
            "EnvironmentFile = lib.mkIf (cfg.adminCredentialsFile != null) "
            "cfg.adminCredentialsFile;",
        ),
        since="20.03",
    ),
    rows=(
        EnvRow(
            "services.miniflux.config.ADMIN_PASSWORD|ADMIN_USERNAME",
            _OPTION,
            "miniflux-admin.env",
            "miniflux.service",
        ),
    ),
    prefix="miniflux",
)
