"""synapse's secrets go to an extra YAML config file made from a sops template.  Its
line held the value in single quotes, so a value with a quote was refused (a
stranger's run, JulienMalka/snowfield); such a value is now a literal block scalar.
Checked as the host does it: ``nix-instantiate --eval`` gives the template's content,
the placeholder is replaced by the value as sops-nix replaces it, and the YAML is
read back (PyYAML, as synapse reads its config) to the very value."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from secretkit.sensitive import Sensitive
from tests.support.nixeval import eval_json
from tests.support.nixfind import FakeFinding, plan_module

SOURCE = (
    "{ ... }:\n{\n  services.matrix-synapse = {\n    enable = true;\n"
    '    settings.registration_shared_secret = "@V@";\n  };\n}\n'
)


def _read_back(tmp_path: Path, value: str) -> object:
    source = SOURCE.replace("@V@", value.replace("\\", "\\\\").replace('"', '\\"')).encode()
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
        f"(import {module} {{ config = {{ {placeholder} }}; }})"
        '.sops.templates."synapse-secrets.yaml".content'
    )
    content = eval_json(expr, tmp_path / "state")
    assert isinstance(content, str)
    return yaml.safe_load(content.replace(marker, value))


@pytest.mark.parametrize(
    "value",
    ["Zq8'Wm2Xz7Rt4Vn9Lp3B", "it's-6JvT8iu0YbPrR3RQ8nbdWg5B", "a\"b'c:d #e-f", "plainQ8Wm2Xz7Rt4V"],
)
def test_the_value_synapse_reads_is_the_value(tmp_path: Path, value: str) -> None:
    assert _read_back(tmp_path, value) == {"registration_shared_secret": value}
