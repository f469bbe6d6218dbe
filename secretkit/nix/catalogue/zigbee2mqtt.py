"""zigbee2mqtt: ``settings.mqtt.password``, ``settings.frontend.auth_token`` … →
``"!secret.yaml <key>"`` with a sops template rendered as ``secret.yaml`` in the data
directory (zigbee2mqtt resolves the reference itself, as user ``zigbee2mqtt``)."""

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


class Zigbee2mqtt:
    key = "zigbee2mqtt-secret"
    description = (
        'services.zigbee2mqtt.settings secrets → "!secret.yaml <key>" + secret.yaml '
        "template in the data dir (owner zigbee2mqtt)"
    )
    reader = Reader(
        "daemon",
        Source(
            NIXPKGS,
            "05924f714f31ff83bd10ed1710638688999c3725",
            "nixos/modules/services/home-automation/zigbee2mqtt.nix",
            'environment.ZIGBEE2MQTT_DATA = cfg.dataDir; … User = "zigbee2mqtt";',
        ),
        since="21.05",
        owner='"zigbee2mqtt"',
    )
    _file_path = "/var/lib/zigbee2mqtt/secret.yaml"  # the module's default dataDir

    def matches(self, path: Sequence[str]) -> bool:
        return match("services.zigbee2mqtt.settings.mqtt|frontend.*", path)

    def name(self, site: Site) -> str:
        return f"zigbee2mqtt/{slug(site.path[3])}/{slug(site.path[4])}"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        value = site.secret.reveal()
        if "'" in value or any(ord(c) < 32 for c in value):
            return Refusal("the value cannot be written into secret.yaml as it is")
        if site.has_option(("services", "zigbee2mqtt", "dataDir")):
            return Refusal("dataDir is set: secret.yaml would be looked for elsewhere")
        key = re.sub(r"[^a-z0-9]+", "_", f"{site.path[3]}_{site.path[4]}".lower())
        return Rewrite(
            site.secret,
            [replace_literal(site, emit.nix_string(f"!secret.yaml {key}"))],
            f'{site.path[-1]} = "!secret.yaml {key}"',
            template=TemplateLine(
                template="zigbee2mqtt-secret.yaml",
                line=f"{key}: '{emit.placeholder(name)}'",
                option=(),
                path=self._file_path,
                restart_units=("zigbee2mqtt.service",),
            ),
        )


ENTRY = Zigbee2mqtt()
