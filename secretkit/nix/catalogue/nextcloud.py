"""Nextcloud admin and database passwords → ``adminpassFile`` / ``dbpassFile``.

Who reads the files depends on the release.  Up to 24.11, ``nextcloud-setup`` runs as
the ``nextcloud`` user and reads them itself (``[ ! -r "${c.adminpassFile}" ]`` aborts
the setup: "is not readable by nextcloud:nextcloud!"), so the secret is owned by
``nextcloud``.  From 25.05 it gets them through ``LoadCredential`` (systemd reads them
as root and hands a copy to the ``nextcloud`` user), so the secret stays root-only.
When the release is not known the host's own release chooses, in Nix
(``config.system.nixos.release``).
"""

from __future__ import annotations

from secretkit.nix.catalogue.base import NIXPKGS, Reader, Source
from secretkit.nix.catalogue.sibling import Row, SiblingFile
from secretkit.nix.catalogue.write_text import WriteTextRoute

_PATH = "nixos/modules/services/web-apps/nextcloud.nix"

SETUP_READS_IT = Source(  # the module as released in 24.11 (before nixpkgs PR #367433)
    NIXPKGS,
    "nixos-24.11",
    _PATH,
    'if [ ! -r "${c.adminpassFile}" ]; then echo "adminpassFile ${c.adminpassFile} is not '
    'readable by nextcloud:nextcloud! Aborting..." … serviceConfig.User = "nextcloud";',
)

ENTRY = SiblingFile(
    key="nextcloud-config",
    description="services.nextcloud.config.adminpass / dbpass → adminpassFile / dbpassFile",
    reader=Reader(
        "daemon",
        Source(
            NIXPKGS,
            "0019d965790afae17103d22bc94a96bac84930d2",
            _PATH,
            'serviceConfig.LoadCredential = [ "adminpass:${cfg.config.adminpassFile}" ] '
            "++ runtimeSystemdCredentials;",
        ),
        since="20.03",
        owner='"nextcloud"',
        user_from="services.nextcloud.enable",
        owner_until="25.05",  # 25.05 reads them through LoadCredential (as root)
    ),
    rows=(
        Row("services.nextcloud.config.adminpass", "adminpassFile", "nextcloud-setup.service"),
        Row("services.nextcloud.config.dbpass", "dbpassFile", "nextcloud-setup.service"),
    ),
)

# the same files given as ``pkgs.writeText "…" "<password>"`` (``toString`` of it, or
# ``"${…}"``): read by the same process, so owned as above (not the catch-all's 0444)
FILES = WriteTextRoute(
    key="nextcloud-files",
    description=(
        "services.nextcloud.config.adminpassFile / dbpassFile given pkgs.writeText → the "
        "sops secret's path (nextcloud-setup reads it: owned by nextcloud until 25.05)"
    ),
    reader=ENTRY.reader,
    patterns=(
        "services.nextcloud.config.adminpassFile",
        "services.nextcloud.config.dbpassFile",
    ),
    unit="nextcloud-setup.service",
)
