"""``"!secret <key>"`` against the sops template that renders the program's secrets
file (gate/secret_yaml_refs.py; helper-118's repro 6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.gate.context import CheckContext
from secretkit.gate.secret_yaml_refs import unresolved_keys
from secretkit.gate.sops_verify import SopsJudge
from tests.conftest import git

TEMPLATE = """  sops.templates."home-assistant-secrets.yaml" = {
    content = ''
      notify_api_key: ${config.sops.placeholder."home-assistant/notify/api_key"}
      other: "x"
    '';
    path = "/var/lib/hass/secrets.yaml";
  };
"""


def _check(repo: Path, reference: str, template: str = TEMPLATE) -> list[tuple[str, str]]:
    (repo / "host.nix").write_text(
        "{ config, ... }: {\n  services.home-assistant.config.notify = [ { api_key = "
        f'"{reference}"; }} ];\n{template}}}\n'
    )
    git(repo, "add", "-A")
    return [(r.message, r.fix) for r in unresolved_keys(CheckContext(root=repo, judge=SopsJudge()))]


def test_a_key_the_template_lacks_fails(tmp_git_repo: Path) -> None:
    ((message, fix),) = _check(tmp_git_repo, "!secret telegram_key")
    assert message == (
        'host.nix:2: "!secret telegram_key" names a key the sops template that renders '
        "secrets.yaml does not hold (it holds: notify_api_key, other): the program stops "
        "at start-up"
    )
    assert fix.startswith('add a line telegram_key: ${config.sops.placeholder."<name>"}')


@pytest.mark.parametrize(
    ("reference", "template"),
    [
        ("!secret notify_api_key", TEMPLATE),  # (the key the template holds)
        # (a template named otherwise at the file's path)
        ("!secret notify_api_key", TEMPLATE.replace('"home-assistant-secrets.yaml"', "hass")),
        # (no template renders secrets.yaml: kept some other way, not judged)
        ("!secret telegram_key", ""),
        ("plain text", TEMPLATE),
    ],
)
def test_what_resolves_or_cannot_be_judged_passes(
    tmp_git_repo: Path, reference: str, template: str
) -> None:
    assert _check(tmp_git_repo, reference, template) == []


def test_a_template_made_by_an_expression_is_not_judged(tmp_git_repo: Path) -> None:
    """helper-120: content = lib.generators.toYAML { } { … } was read as holding no
    key; its keys are not read, so its references are not judged."""
    template = (
        '  sops.templates."home-assistant-secrets.yaml".content = lib.generators.toYAML { } '
        '{ latitude = config.sops.placeholder."x"; };\n'
    )
    assert _check(tmp_git_repo, "!secret latitude", template) == []
