"""Nextcloud admin and database passwords → ``adminpassFile`` / ``dbpassFile``.

``nextcloud-setup`` gets both through ``LoadCredential`` (systemd reads them as
root and hands a copy to the ``nextcloud`` user), so the sops secret stays root-only.
"""

from __future__ import annotations

from secretkit.nix.catalogue.base import NIXPKGS, Reader, Source
from secretkit.nix.catalogue.sibling import Row, SiblingFile

ENTRY = SiblingFile(
    key="nextcloud-config",
    description="services.nextcloud.config.adminpass / dbpass → adminpassFile / dbpassFile",
    reader=Reader(
        "systemd",
        Source(
            NIXPKGS,
            "0019d965790afae17103d22bc94a96bac84930d2",
            "nixos/modules/services/web-apps/nextcloud.nix",
            'serviceConfig.LoadCredential = [ "adminpass:${cfg.config.adminpassFile}" ] '
            "++ runtimeSystemdCredentials;",
        ),
        since="20.03",
    ),
    rows=(
        Row("services.nextcloud.config.adminpass", "adminpassFile", "nextcloud-setup.service"),
        Row("services.nextcloud.config.dbpass", "dbpassFile", "nextcloud-setup.service"),
    ),
)
