"""ACME DNS-provider credentials given as ``pkgs.writeText`` → a sops secret or template.

``environmentFile`` (``credentialsFile`` is its old name) is the cert unit's
``EnvironmentFile``; ``credentialFiles.<VAR_FILE>`` go through ``LoadCredential``:
systemd reads both, so root-owned is right."""

from __future__ import annotations

from secretkit.nix.catalogue.base import NIXPKGS, Reader, Source
from secretkit.nix.catalogue.write_text import WriteTextRoute

ENTRY = WriteTextRoute(
    key="acme-dns-credentials",
    description=(
        "security.acme.certs.<c> / defaults .environmentFile / credentialsFile / "
        "credentialFiles.<V> given pkgs.writeText → sops secret or template (systemd reads)"
    ),
    reader=Reader(
        "systemd",
        Source(
            NIXPKGS,
            "014d882725c6ab65982a046f110b73214c0f5e1f",
            "nixos/modules/security/acme/default.nix",
            "EnvironmentFile = mkIf useDnsOrS3 data.environmentFile; … LoadCredential = "
            'mkIf useDnsOrS3 (mapAttrsToList (k: v: "${k}:${v}") data.credentialFiles);',
        ),
        since="22.11",
    ),
    patterns=(
        "security.acme.certs.*.environmentFile|credentialsFile",
        "security.acme.defaults.environmentFile|credentialsFile",
        "security.acme.certs.*.credentialFiles.*",
        "security.acme.defaults.credentialFiles.*",
    ),
)
