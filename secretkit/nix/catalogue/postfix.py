"""Postfix lookup tables (``sasl_passwd`` …) given as ``pkgs.writeText`` in ``mapFiles``
→ the sops secret's path; ``postfix-setup`` (root) copies and ``postmap``s them."""

from __future__ import annotations

from secretkit.nix.catalogue.base import NIXPKGS, Reader, Source
from secretkit.nix.catalogue.write_text import WriteTextRoute

ENTRY = WriteTextRoute(
    key="postfix-map-files",
    description=(
        "services.postfix.mapFiles.<m> given pkgs.writeText (sasl_passwd, …) → sops "
        "secret or template (postfix-setup copies it as root)"
    ),
    reader=Reader(
        "root",
        Source(
            NIXPKGS,
            "master",
            "nixos/modules/services/mail/postfix.nix",
            "postfix-setup: ln -sf / postmap ${mapFiles} into /var/lib/postfix/conf (root)",
            read=False,
        ),
        since="18.09",
    ),
    patterns=("services.postfix.mapFiles.*",),
    unit="postfix.service",
)
