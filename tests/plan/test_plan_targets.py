"""Which sops file a host's new secrets go into, and the sopsFile written for it."""

from __future__ import annotations

import pytest

from secretkit.plan.targets import Targets, _rule_file, shared_problem, sops_file_expr


@pytest.mark.parametrize(
    ("regex", "file"),
    [
        ("hosts/cache/secrets\\.yaml$", "hosts/cache/secrets.yaml"),
        ("^hosts/cache/secrets\\.yaml$", "hosts/cache/secrets.yaml"),
        ("secrets/web/[^/]+\\.yaml$", "secrets/web/secrets.yaml"),
        ("secrets/web/.*\\.yaml$", "secrets/web/secrets.yaml"),
        ("secrets/(web|db)\\.yaml$", None),  # a choice: never guessed
        (".*", None),
    ],
)
def test_the_file_a_rule_of_the_host_names(regex: str, file: str | None) -> None:
    assert _rule_file(regex) == file


def test_sops_file_expressions() -> None:
    own = Targets(files={"web": "hosts/web/secrets/main.yaml", "db": "hosts/db/s.yaml"})
    assert sops_file_expr("hosts/web/configuration.nix", ["web"], own) == "./secrets/main.yaml"
    assert sops_file_expr("modules/x.nix", ["web"], own) == "../hosts/web/secrets/main.yaml"
    # a defaultSopsFile that names the file: no sopsFile at all
    own.defaults = {"web"}
    assert sops_file_expr("hosts/web/configuration.nix", ["web"], own) is None
    # shared by hosts with and without one: no single expression fits
    assert sops_file_expr("modules/x.nix", ["db", "web"], own) is None
    reason = shared_problem("modules/x.nix", ["db", "web"], own)
    assert reason is not None and "files not named after the host" in reason
    own.defaults = {"web", "db"}
    assert shared_problem("modules/x.nix", ["db", "web"], own) is None
    # secretkit's own layout, untouched
    assert sops_file_expr("m/x.nix", ["a", "b"], Targets()) == (
        '../secrets + "/${config.networking.hostName}.yaml"'
    )
    assert sops_file_expr("m/x.nix", ["a"], None) == "../secrets/a.yaml"


def test_an_ambiguous_host_is_the_reason_for_its_modules() -> None:
    targets = Targets(ambiguous={"web": "two files"}, candidates={"web": ["a.yaml", "b.yaml"]})
    assert shared_problem("x.nix", ["web"], targets) == "two files"
    assert targets.route_file("web") == "<a.yaml or b.yaml>"


SHARED = b"""{ pkgs, ... }:
{
  services.tailscale.extraUpFlags = [ "--authkey=@TS_KEY@" ];
}
"""


def test_a_module_shared_by_hosts_with_a_default_file_each_omits_sops_file() -> None:
    from tests.support.nixfind import fill, plan_module

    source, findings, values = fill(SHARED, "modules/common.nix")
    targets = Targets(
        files={"a": "hosts/a/secrets.yaml", "b": "hosts/b/main.yaml"}, defaults={"a", "b"}
    )
    plan = plan_module(
        source, "modules/common.nix", hosts=("a", "b"), findings=findings, targets=targets
    )
    (move,) = plan.moves
    assert move.files == ("hosts/a/secrets.yaml", "hosts/b/main.yaml")
    assert plan.secret_file("b") == "hosts/b/main.yaml"
    for host in ("a", "b"):
        assert plan.sops[host][("tailscale", "authkey")].reveal() == values["TS_KEY"]
    new = plan.nix["modules/common.nix"][1]
    assert b'sops.secrets."tailscale/authkey" = {' in new
    assert b"sopsFile" not in new
    # one host without a default: refused, not guessed
    targets.defaults = {"a"}
    plan = plan_module(
        source, "modules/common.nix", hosts=("a", "b"), findings=findings, targets=targets
    )
    assert plan.moves == [] and plan.nix == {}
    (refused,) = plan.refused
    assert "not named after the host" in refused.reason
    assert any("secretkit set hosts/b/main.yaml" in step for step in refused.route)
