"""Grafana settings and provisioning secrets → ``$__file{…}``."""

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
    match,
    replace_literal,
    slug,
)


class Grafana:
    key = "grafana-file-provider"
    description = 'Grafana settings and provisioning secrets → "$__file{…}" (owner grafana)'
    reader = Reader(
        "daemon",
        Source(
            NIXPKGS,
            "00976b194fe32d3e425ff3b457eeb6e4ec7ba12c",
            "nixos/modules/services/monitoring/grafana.nix",
            'serviceConfig = { … User = "grafana"; };',
        ),
        since="22.11",
        owner='"grafana"',
        user_from="services.grafana.enable",
    )

    def matches(self, path: Sequence[str]) -> bool:
        return match("services.grafana.settings.*.*", path) or match(
            "services.grafana.provision.datasources.settings.datasources.[].secureJsonData.*", path
        )

    # the targets whose value names the file inside a string, never as the bare path
    # (a path given bare there is read as the setting itself: check fails it)
    wrapped_targets = (
        "services.grafana.settings.*.*",
        "services.grafana.provision.datasources.settings.datasources.[].secureJsonData.*",
    )

    def targets(self) -> tuple[str, ...]:
        """grafana opens the file a ``"$__file{<path>}"`` setting names, and its
        provisioning files, as itself."""
        return (
            "services.grafana.settings.*.*",
            "services.grafana.provision.datasources.settings.datasources.[].secureJsonData.*",
            "services.grafana.provision.datasources.path",
            "services.grafana.provision.dashboards.path",
            "services.grafana.provision.alerting.*.path",
        )

    def name(self, site: Site) -> str:
        if site.path[2] == "settings":
            return f"grafana/{slug(site.path[3])}/{slug(site.path[4])}"
        ds = site.sibling_string(2, "name") or site.path[6].strip("[]")
        return f"grafana/datasources/{slug(ds)}/{slug(site.path[-1])}"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        text = '"$__file{${' + emit.secret_ref(name) + '}}"'
        return Rewrite(
            site.secret,
            [replace_literal(site, text)],
            f"{'.'.join(site.path[2:])} = $__file{{…}}",
            restart_units=("grafana.service",),
        )
