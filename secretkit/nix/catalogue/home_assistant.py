"""Home Assistant config values → ``!secret`` + a rendered ``secrets.yaml``."""

from __future__ import annotations

import re
from collections.abc import Sequence

from secretkit.nix.catalogue.base import (
    NIXPKGS,
    Reader,
    Refusal,
    Rewrite,
    Site,
    Source,
    match,
    slug,
)
from secretkit.nix.catalogue.secret_yaml import SecretYaml


class HomeAssistant:
    key = "home-assistant-secret"
    description = (
        'services.home-assistant.config values → "!secret <name>" with a sops template '
        "rendered as <configDir>/secrets.yaml (owner hass)"
    )
    reader = Reader(
        "daemon",
        Source(
            NIXPKGS,
            "00b9d1f7546ba868a08651db276b2c2c5cd7f6c6",
            "nixos/modules/services/home-automation/home-assistant.nix",
            'ExecStart = "${package}/bin/hass --config \'${cfg.configDir}\'"; … User = "hass";',
        ),
        since="21.05",
        owner='"hass"',
        user_from="services.home-assistant.enable",
    )
    secret_yaml = SecretYaml(
        marker="!secret",
        file_name="secrets.yaml",
        dir_option=("services", "home-assistant", "configDir"),
        template="home-assistant-secrets.yaml",
        path="/var/lib/hass/secrets.yaml",  # the module's default configDir
        unit="home-assistant.service",
    )

    def matches(self, path: Sequence[str]) -> bool:
        return match("services.home-assistant.config.**", path)

    def name(self, site: Site) -> str:
        parts = [slug(p) for p in site.path[3:] if not p.startswith("[")]
        return "home-assistant/" + "/".join(parts)

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        key = re.sub(r"[^a-z0-9]+", "_", name.removeprefix("home-assistant/").lower()).strip("_")
        summary = f'{site.path[-1]} = "!secret {key}" (secrets.yaml)'
        return self.secret_yaml.rewrite(site, name, key, summary)
