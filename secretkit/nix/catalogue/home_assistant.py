"""Home Assistant config values → ``!secret`` + a rendered ``secrets.yaml``."""

from __future__ import annotations

import re
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
    match,
    replace_literal,
    slug,
)


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
    )
    _secrets_yaml = "/var/lib/hass/secrets.yaml"  # the module's default configDir

    def matches(self, path: Sequence[str]) -> bool:
        return match("services.home-assistant.config.**", path)

    def name(self, site: Site) -> str:
        parts = [slug(p) for p in site.path[3:] if not p.startswith("[")]
        return "home-assistant/" + "/".join(parts)

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        value = site.secret.reveal()
        if "'" in value or any(ord(c) < 32 for c in value):
            return Refusal("the value cannot be written into secrets.yaml as it is")
        if site.has_option(("services", "home-assistant", "configDir")):
            return Refusal("configDir is set: secrets.yaml would be looked for elsewhere")
        key = re.sub(r"[^a-z0-9]+", "_", name.removeprefix("home-assistant/").lower()).strip("_")
        return Rewrite(
            site.secret,
            [replace_literal(site, emit.nix_string(f"!secret {key}"))],
            f'{site.path[-1]} = "!secret {key}" (secrets.yaml)',
            template=TemplateLine(
                template="home-assistant-secrets.yaml",
                line=f"{key}: '{emit.placeholder(name)}'",
                option=(),
                path=self._secrets_yaml,
                restart_units=("home-assistant.service",),
            ),
        )
