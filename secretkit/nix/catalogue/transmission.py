"""Transmission: ``settings.rpc-password`` → ``credentialsFile`` (a JSON object merged into
``settings.json`` by the unit's privileged ``ExecStartPre``)."""

from __future__ import annotations

from collections.abc import Sequence

from secretkit.nix import emit
from secretkit.nix.catalogue.base import (
    NIXPKGS,
    Reader,
    Refusal,
    Rewrite,
    Site,
    Source,
    TemplateLine,
    delete_node,
    match,
)


class TransmissionCredentials:
    key = "transmission-credentials"
    description = "services.transmission.settings.rpc-password → credentialsFile (JSON template)"
    reader = Reader(
        "root",
        Source(
            NIXPKGS,
            "03060208ef081ca29b53dc3a223fa8b7666b1590",
            "nixos/modules/services/torrent/transmission.nix",
            '# Use "+" because credentialsFile may not be accessible to User= or Group=. … '
            "${pkgs.jq}/bin/jq --slurp add ${settingsFile} '${cfg.credentialsFile}'",
        ),
        since="21.05",
    )

    def matches(self, path: Sequence[str]) -> bool:
        return match("services.transmission.settings.rpc-password", path)

    def name(self, site: Site) -> str:
        return f"transmission/{site.path[-1]}"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        value = site.secret.reveal()
        if '"' in value or "\\" in value or any(ord(c) < 32 for c in value):
            return Refusal("the value cannot be written into a JSON string as it is")
        binding = site.binding
        if binding is None:
            return Refusal("the value is not a plain attribute")
        key = site.path[-1]
        return Rewrite(
            site.secret,
            [delete_node(site.tree, binding)],
            f"credentialsFile ({key})",
            template=TemplateLine(
                template="transmission-credentials.json",
                line=f'{{"{key}": "{emit.placeholder(name)}"}}',
                option=("services", "transmission", "credentialsFile"),
                restart_units=("transmission.service",),
            ),
        )


ENTRY = TransmissionCredentials()
