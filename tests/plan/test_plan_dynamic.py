"""Computed attribute names: resolved from a ``let`` or from what the hosts set, or kept
as written when the route is the same whatever they are; refused with the true reason
when neither holds."""

from __future__ import annotations

from secretkit.nix import cst
from secretkit.plan.hostvalues import collect
from tests.support.nixfind import fill, plan_module

SHARED = "modules/common.nix"


def _values(hosts: dict[str, bytes]) -> dict[str, bytes]:
    return {f"hosts/{h}/default.nix": data for h, data in hosts.items()}


def test_config_name_resolved_from_the_host_and_migrated() -> None:
    source, findings, values = fill(
        b'{ config, ... }:\n{\n  users.users.${config.my.username}.initialPassword = "@PW@";\n}\n',
        SHARED,
    )
    hosts = _values(
        {
            "a": b'{ ... }: { my.username = "stian"; }\n',
            "b": b'{ ... }: { my = { username = "stian"; }; }\n',
        }
    )
    host_values = collect(
        {SHARED: source, **hosts},
        {h: [SHARED, f"hosts/{h}/default.nix"] for h in ("a", "b")},
        cst.parse,
    )
    plan = _plan(source, findings, ("a", "b"), host_values)
    assert plan.refused == []
    assert [m.name for m in plan.moves] == ["users/stian/hashed-password"]
    new = plan.nix[SHARED][1]
    assert b"users.users.${config.my.username}.hashedPasswordFile = " in new
    assert b"neededForUsers = true;" in new
    assert values["PW"].encode() not in new


def test_option_default_resolves_the_name() -> None:
    source, findings, _ = fill(
        b"{ config, lib, ... }:\n{\n"
        b'  options.my.username = lib.mkOption { type = lib.types.str; default = "alice"; };\n'
        b"  config = {\n"
        b'    users.users.${config.my.username}.password = "@PW@";\n'
        b"  };\n}\n",
        SHARED,
    )
    host_values = collect({SHARED: source}, {"a": [SHARED]}, cst.parse)
    plan = _plan(source, findings, ("a",), host_values)
    assert [m.name for m in plan.moves] == ["users/alice/hashed-password"]


def test_let_name_resolved() -> None:
    source, findings, _ = fill(
        b'{ ... }:\nlet\n  user = "bob";\nin\n'
        b'{\n  users.users."${user}".initialPassword = "@PW@";\n}\n',
        SHARED,
    )
    plan = plan_module(source, SHARED, findings=findings)
    assert [m.name for m in plan.moves] == ["users/bob/hashed-password"]


def test_differing_values_keep_the_name_computed_when_the_route_does_not_depend_on_it() -> None:
    source, findings, _ = fill(
        b'{ config, ... }:\n{\n  users.users.${config.my.username}.initialPassword = "@PW@";\n}\n',
        SHARED,
    )
    hosts = _values({"a": b'{ my.username = "x"; }\n', "b": b'{ my.username = "y"; }\n'})
    host_values = collect(
        {SHARED: source, **hosts},
        {h: [SHARED, f"hosts/{h}/default.nix"] for h in ("a", "b")},
        cst.parse,
    )
    plan = _plan(source, findings, ("a", "b"), host_values)
    assert plan.refused == []
    assert plan.moves[0].name == "users/config.my.username/hashed-password"
    assert plan.moves[0].hosts == ("a", "b")


def test_computed_name_that_decides_the_route_is_refused_with_the_reason() -> None:
    # services.${svc}.password: which service reads it depends on the name
    source, findings, _ = fill(
        b'{ config, ... }:\n{\n  services.${config.my.svc}.password = "@PW@";\n}\n', SHARED
    )
    host_values = collect({SHARED: source}, {"a": [SHARED]}, cst.parse)
    plan = _plan(source, findings, ("a",), host_values)
    assert plan.moves == []
    [refused] = plan.refused
    assert "is computed" in refused.reason
    assert "no module of host a sets config.my.svc to a plain string" in refused.reason
    assert "inside a function call" not in refused.reason
    assert any("secretkit set secrets/a.yaml" in step for step in refused.route)


def _plan(source, findings, hosts, host_values):  # type: ignore[no-untyped-def]
    from secretkit.nix import cst as c
    from secretkit.plan.build import build_plan

    def literal_of(tree, node):  # type: ignore[no-untyped-def]
        return {s.start: s.value for s in c.strings(tree)}[node.start_byte]

    return build_plan(
        {SHARED: source},
        findings,
        lambda _p: list(hosts),
        parse=c.parse,
        literal_of=literal_of,
        host_values=host_values,
    )
