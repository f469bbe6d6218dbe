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
            "1199d0ba5141ec0935272b6943ab86cda5db5b26",
            "nixos/modules/services/mail/postfix.nix",
            # postfix-setup's script; the unit sets no User=: a root oneshot
            "ln -sf ${from} /var/lib/postfix/conf/${to} … "
            "${pkgs.postfix}/bin/postmap /var/lib/postfix/conf/${to}",
        ),
        since="18.09",
    ),
    patterns=("services.postfix.mapFiles.*",),
    unit="postfix.service",
)
