"""zigbee2mqtt: ``settings.mqtt.password``, ``settings.frontend.auth_token`` … →
``"!secret.yaml <key>"`` with a sops template rendered as ``secret.yaml`` in the data
directory (zigbee2mqtt resolves the reference itself, as user ``zigbee2mqtt``)."""

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
        user_from="services.zigbee2mqtt.enable",
    )
    secret_yaml = SecretYaml(
        marker="!secret.yaml",
        file_name="secret.yaml",
        dir_option=("services", "zigbee2mqtt", "dataDir"),
        template="zigbee2mqtt-secret.yaml",
        path="/var/lib/zigbee2mqtt/secret.yaml",  # the module's default dataDir
        unit="zigbee2mqtt.service",
    )

    def matches(self, path: Sequence[str]) -> bool:
        return match("services.zigbee2mqtt.settings.mqtt|frontend.*", path)

    def name(self, site: Site) -> str:
        return f"zigbee2mqtt/{slug(site.path[3])}/{slug(site.path[4])}"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        key = re.sub(r"[^a-z0-9]+", "_", f"{site.path[3]}_{site.path[4]}".lower())
        return self.secret_yaml.rewrite(site, name, key, f'{site.path[-1]} = "!secret.yaml {key}"')


ENTRY = Zigbee2mqtt()
