"""ddclient: ``password`` (removed from the module) → ``passwordFile``.

The file is read by the unit's ``ExecStartPre = [ "!…" ]`` (full privileges) and
spliced into a copy of the config with ``replace-secret``: root-owned is right.
"""

from __future__ import annotations

from secretkit.nix.catalogue.base import NIXPKGS, Reader, Source
from secretkit.nix.catalogue.sibling import Row, SiblingFile

ENTRY = SiblingFile(
    key="ddclient-password",
    description="services.ddclient.password → passwordFile (read by a root ExecStartPre)",
    reader=Reader(
        "root",
        Source(
            NIXPKGS,
            "013635633ffe11f70df1d639f563f21c42c1f778",
            "nixos/modules/services/networking/ddclient.nix",
            'ExecStartPre = [ "!${pkgs.writeShellScript "ddclient-prestart" preStart}" ];',
        ),
        since="17.09",
    ),
    rows=(Row("services.ddclient.password", "passwordFile", "ddclient.service"),),
)
