"""Secrets that go to a YAML file a sops template makes: synapse's extra config file,
zigbee2mqtt's secret.yaml.  Their line held the value in single quotes, so a value
with a quote was refused (a stranger's run, JulienMalka/snowfield); such a value is
now a literal block scalar (emit.yaml_line).  Checked as the host does it:
``nix-instantiate --eval`` gives the template's content, the placeholder is replaced
by the value as sops-nix replaces it, and the YAML is read back (PyYAML, as synapse
reads its config; zigbee2mqtt's own YAML reader takes the same YAML) to the very value."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from secretkit.sensitive import Sensitive
from tests.support.nixeval import eval_json
from tests.support.nixfind import FakeFinding, plan_module

# route → (the module, with @V@ for the value; the template; the key it writes)
ROUTES = {
    "synapse": (
        "{ ... }:\n{\n  services.matrix-synapse = {\n    enable = true;\n"
        '    settings.registration_shared_secret = "@V@";\n  };\n}\n',
        "synapse-secrets.yaml",
        "registration_shared_secret",
    ),
    "zigbee2mqtt": (
        "{ ... }:\n{\n  services.zigbee2mqtt = {\n    enable = true;\n"
        '    settings.mqtt.password = "@V@";\n  };\n}\n',
        "zigbee2mqtt-secret.yaml",
        "mqtt_password",
    ),
}


def _read_back(tmp_path: Path, route: str, value: str) -> object:
    module_text, template, _key = ROUTES[route]
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    source = module_text.replace("@V@", escaped).encode()
    start = source.index(b'= "') + 3
    end = source.index(b'";', start)
    found = [FakeFinding("h.nix", 5, start, end, Sensitive(value))]
    plan = plan_module(source, "h.nix", findings=found)
    assert plan.refused == [], plan.refused
    module = tmp_path / "h.nix"
    module.write_bytes(plan.nix["h.nix"][1])
    name = next(iter(plan.sops["host1"]))
    marker = "<SOPS:placeholder>"
    placeholder = f'sops.placeholder = {{ "{"/".join(name)}" = "{marker}"; }};'
    expr = (
        f'(import {module} {{ config = {{ {placeholder} }}; }}).sops.templates."{template}".content'
    )
    content = eval_json(expr, tmp_path / "state")
    assert isinstance(content, str)
    return yaml.safe_load(content.replace(marker, value))


@pytest.mark.parametrize("route", sorted(ROUTES))
@pytest.mark.parametrize(
    "value",
    ["Zq8'Wm2Xz7Rt4Vn9Lp3B", "it's-6JvT8iu0YbPrR3RQ8nbdWg5B", "a\"b'c:d #e-f", "plainQ8Wm2Xz7Rt4V"],
)
def test_the_value_the_service_reads_is_the_value(tmp_path: Path, route: str, value: str) -> None:
    key = ROUTES[route][2]
    assert _read_back(tmp_path, route, value) == {key: value}


def test_a_value_a_yaml_line_cannot_carry_is_refused_with_that_reason() -> None:
    from secretkit.nix.emit import yaml_line

    assert yaml_line("k", "P", "plain") == "k: 'P'"
    assert yaml_line("k", "P", "it's") == "k: |-\n  P"
    assert yaml_line("k", "P", " it's") is None  # (a block scalar trims the blank)
    assert yaml_line("k", "P", "two\nlines") is None
