"""nix-secret-refs: an Alertmanager URL field written "$VAR" (filled in from the
environment file when the unit starts) fails the build's amtool check-config unless
checkConfig = false."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.gate import placeholders
from secretkit.gate.context import CheckContext
from secretkit.gate.sops_verify import SopsJudge
from tests.conftest import git


def _alertmanager(field: str, value: str, extra: str = "") -> str:
    return (
        "{ config, ... }: { services.prometheus.alertmanager = { enable = true; "
        f"environmentFile = config.sops.templates.am.path; {extra}"
        'configuration.receivers = [ { name = "r"; slack_configs = [ { '
        f'{field} = "{value}"; }} ]; }} ]; }}; }}'
    )


def _results(repo: Path, source: str, release: str | None = None) -> list[tuple[str, str]]:
    (repo / "am.nix").write_text(source + "\n")
    if release is not None:
        url = f"github:NixOS/nixpkgs/nixos-{release}"
        (repo / "flake.nix").write_text(
            f'{{ inputs.nixpkgs.url = "{url}"; outputs = _: {{ }}; }}\n'
        )
    git(repo, "add", "-A")
    found = placeholders.checked_at_build(CheckContext(root=repo, judge=SopsJudge()))
    assert all(r.id == "nix-secret-refs" and not r.ok for r in found)
    return [(r.message, r.fix) for r in found]


# (as written in Nix: "\${…}" is the text ${…}, "${…}" would interpolate a Nix value)
@pytest.mark.parametrize(("written", "value"), [("$SLACK_URL", "$SLACK_URL"), ("\\${U}", "${U}")])
def test_a_url_from_the_environment_fails_the_build_check(
    tmp_git_repo: Path, written: str, value: str
) -> None:
    ((message, fix),) = _results(tmp_git_repo, _alertmanager("api_url", written))
    assert message.startswith(
        "am.nix:1: services.prometheus.alertmanager.configuration.receivers.[0]"
        f'.slack_configs.[0].api_url = "{value}" is checked as a URL when the configuration '
        "is built"
    )
    assert fix.startswith("set services.prometheus.alertmanager.checkConfig = false;")
    # the fix, as it says
    fixed = _alertmanager("api_url", written, "checkConfig = false; ")
    assert _results(tmp_git_repo, fixed) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("token", "$PUSHOVER_TOKEN"),  # (not parsed as a URL)
        ("api_url", "https://hooks.slack.com/services/x"),  # (no placeholder)
        ("api_url", "https://$HOST/x"),  # (part of a URL: not claimed either way)
    ],
)
def test_other_fields_and_values_are_not_judged(tmp_git_repo: Path, field: str, value: str) -> None:
    assert _results(tmp_git_repo, _alertmanager(field, value)) == []


def test_before_23_05_the_fix_says_the_option_is_missing(tmp_git_repo: Path) -> None:
    ((_message, fix),) = _results(tmp_git_repo, _alertmanager("api_url", "$U"), "22.11")
    assert fix.startswith("checkConfig exists from NixOS 23.05 on (22.11 is pinned, flake.nix")
    ((_message, fix),) = _results(tmp_git_repo, _alertmanager("api_url", "$U"), "23.05")
    assert fix.startswith("set services.prometheus.alertmanager.checkConfig = false;")


@pytest.mark.parametrize(
    ("check", "said"),
    [
        ("checkConfig = lib.mkForce false; ", None),
        ("checkConfig = lib.mkOverride 50 false; ", None),
        ("checkConfig = lib.mkIf cfg.on false; ", "cannot verify that"),  # (only where on)
        ("checkConfig = true; ", "the build fails"),
    ],
)
def test_check_config_through_priorities(tmp_git_repo: Path, check: str, said: str | None) -> None:
    found = _results(tmp_git_repo, _alertmanager("api_url", "$U", check))
    assert [m for m, _f in found if said is not None and said in m] == [m for m, _f in found]
    assert bool(found) is (said is not None)


@pytest.mark.parametrize("written", ["''$SLACK_URL''", '"$SCHEME://hooks.example/x"'])
def test_other_spellings_of_a_placeholder_url_are_judged(tmp_git_repo: Path, written: str) -> None:
    source = _alertmanager("api_url", "X").replace('api_url = "X"', f"api_url = {written}")
    ((message, _fix),) = _results(tmp_git_repo, source)
    assert "is checked as a URL when the configuration is built" in message


HIVE = """{{
  meta.nixpkgs = <nixpkgs>;
  alpha = {{ config, ... }}: {{
    imports = [ ./am.nix ];{alpha}
  }};
  beta = {{ config, ... }}: {{
    imports = [ ./am.nix ];
    services.prometheus.alertmanager.checkConfig = false;
  }};
}}
"""


def test_a_colmena_node_that_turns_the_check_off_is_read(tmp_git_repo: Path) -> None:
    (tmp_git_repo / "hive.nix").write_text(HIVE.format(alpha=""))
    ((message, fix),) = _results(tmp_git_repo, _alertmanager("api_url", "$U"))
    assert message.endswith("the build fails (host alpha)")
    assert fix.startswith("set services.prometheus.alertmanager.checkConfig = false; in a module")
    # the fix, in alpha's node as it says
    (tmp_git_repo / "hive.nix").write_text(
        HIVE.format(alpha="\n    services.prometheus.alertmanager.checkConfig = false;")
    )
    assert _results(tmp_git_repo, _alertmanager("api_url", "$U")) == []


def test_a_configuration_made_of_lets_is_read_too(tmp_git_repo: Path) -> None:
    source = (
        '{ config, ... }: let\n  receivers = [ { name = "w"; webhook_configs = [ { '
        'url = "$WEBHOOK_URL"; } ]; } ];\n  base = { route.receiver = "w"; };\nin {\n'
        "  services.prometheus.alertmanager.configuration = base // { inherit receivers; };\n}"
    )
    ((message, _fix),) = _results(tmp_git_repo, source)
    assert message.startswith('am.nix:2: receivers.[0].webhook_configs.[0].url = "$WEBHOOK_URL"')
    fixed = source.replace(
        "in {\n", "in {\n  services.prometheus.alertmanager.checkConfig = false;\n"
    )
    assert _results(tmp_git_repo, fixed) == []
