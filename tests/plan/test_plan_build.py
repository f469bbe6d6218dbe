"""plan/build.py: names, hosts, sopsFile per module, --host limits, redaction."""

from __future__ import annotations

from typing import cast

import pytest

from secretkit.plan.build import sops_file_expr
from secretkit.plan.redaction import redact
from secretkit.sensitive import Sensitive
from tests.support import fake
from tests.support.nixfind import FakeFinding, fill, plan_module

SHARED = b"""{ pkgs, ... }:
{
  services.tailscale.extraUpFlags = [ "--authkey=@TS_KEY@" ];
}
"""

TWO_USERS = b"""{ config, ... }:
{
  services.k3s.token = "@SAME@";
  services.ddclient.password = "@SAME@";
}
"""


def test_sops_file_for_one_host_is_a_relative_path_literal() -> None:
    assert sops_file_expr("hosts/observer/default.nix", ["observer"]) == (
        "../../secrets/observer.yaml"
    )
    assert sops_file_expr("top.nix", ["a"]) == "./secrets/a.yaml"


def test_sops_file_for_a_shared_module_follows_the_host_name() -> None:
    assert sops_file_expr("modules/common.nix", ["a", "b"]) == (
        '../secrets + "/${config.networking.hostName}.yaml"'
    )


def test_shared_module_stores_the_secret_for_every_using_host_only() -> None:
    source, findings, values = fill(SHARED, "modules/common.nix")
    plan = plan_module(source, "modules/common.nix", hosts=("a", "b"), findings=findings)
    assert sorted(plan.sops) == ["a", "b"]
    for host in ("a", "b"):
        assert plan.sops[host][("tailscale", "authkey")].reveal() == values["TS_KEY"]
    (move,) = plan.moves
    assert move.hosts == ("a", "b")
    assert move.files == ("secrets/a.yaml", "secrets/b.yaml")
    new = plan.nix["modules/common.nix"][1]
    assert b'sopsFile = ../secrets + "/${config.networking.hostName}.yaml";' in new
    assert b"{ config, pkgs, ... }:" in new


def test_host_selection_skips_modules_of_other_hosts_and_refuses_shared_ones() -> None:
    source, findings, _ = fill(SHARED, "modules/common.nix")
    plan = plan_module(
        source, "modules/common.nix", hosts=("a", "b"), findings=findings, selected={"a"}
    )
    assert plan.moves == [] and plan.nix == {}
    (refused,) = plan.refused
    assert "also used by b" in refused.reason
    plan = plan_module(
        source, "modules/common.nix", hosts=("a", "b"), findings=findings, selected={"c"}
    )
    assert plan.moves == [] and plan.refused == []


def test_names_are_distinct_per_option() -> None:
    source, findings, _ = fill(TWO_USERS, "h.nix")
    plan = plan_module(source, "h.nix", findings=findings)
    assert sorted(m.name for m in plan.moves) == ["ddclient/password", "k3s/token"]


def test_name_clash_with_an_existing_declaration_gets_a_suffix() -> None:
    from secretkit.plan.naming import Names
    from secretkit.sensitive import Sensitive

    names = Names()
    names.reserve(["k3s/token", "a/b/c"])
    assert names.claim("k3s/token", "m.nix", Sensitive("v1")) == "k3s/token-2"
    assert names.claim("k3s/token", "m.nix", Sensitive("v1")) == "k3s/token-2"
    assert names.claim("k3s/token", "m.nix", Sensitive("v2")) == "k3s/token-3"
    assert names.claim("k3s/token", "other.nix", Sensitive("v1")) == "k3s/token-4"
    # a prefix of an existing key cannot be a leaf
    assert names.claim("a/b", "m.nix", Sensitive("x")) == "a/b-2"


def test_a_name_below_a_taken_leaf_joins_the_leaf() -> None:
    # barrucadu/nixfiles declares sops.secrets."users/barrucadu": no numbered
    # users/barrucadu/hashed-password-N is free either (migrate ended in an internal error)
    from secretkit.plan.naming import Names
    from secretkit.sensitive import Sensitive

    names = Names()
    names.reserve(["users/barrucadu", "a/b"])
    base = "users/barrucadu/hashed-password"
    assert names.claim(base, "m.nix", Sensitive("v")) == "users/barrucadu-hashed-password"
    assert names.claim(base, "o.nix", Sensitive("v")) == "users/barrucadu-hashed-password-2"
    assert names.claim("a/b/c/d", "m.nix", Sensitive("v")) == "a/b-c-d"


def test_diff_never_shows_a_value() -> None:
    source, findings, values = fill(TWO_USERS, "h.nix")
    plan = plan_module(source, "h.nix", findings=findings)
    diff = plan.diff()
    assert '-  services.k3s.token = "<redacted>";' in diff
    for value in values.values():
        assert value not in diff
    for row in plan.table():
        assert not any(value in cell for cell in row for value in values.values())


def test_redact_leaves_short_strings() -> None:
    assert redact("a abc abcd", ["abc", "abcd"]) == "a abc <redacted>"


def test_two_password_options_for_one_user_are_not_both_rewritten() -> None:
    src = b'{ ... }: { users.users.u = { password = "@P1@"; hashedPassword = "@P2@"; }; }\n'
    source, findings, _ = fill(src, "h.nix")
    plan = plan_module(source, "h.nix", findings=findings)
    assert len(plan.moves) == 1
    (refused,) = plan.refused
    assert "hashedPasswordFile would be set twice" in refused.reason


def test_two_modules_of_a_host_do_not_both_get_the_users_password_file() -> None:
    """mitchellh/nixos-config (a stranger's run): initialPassword in the machine's
    module and hashedPassword in the user's, both moved to hashedPasswordFile: two
    definitions of one option, which NixOS refuses.  The second is refused, naming
    the first's place."""
    machine, machine_findings, _ = fill(
        b'{ ... }: { users.users.u.initialPassword = "@P1@"; }\n', "machines/vm.nix"
    )
    user, user_findings, _ = fill(
        b'{ ... }: { users.users.u.initialPassword = "@P2@"; }\n', "users/u.nix"
    )
    plan = plan_module(
        machine,
        "machines/vm.nix",
        hosts=("vm",),
        findings=[*machine_findings, *user_findings],
        extra={"users/u.nix": user},
    )
    assert [m.module for m in plan.moves] == ["machines/vm.nix"]
    (refused,) = plan.refused
    assert refused.module == "users/u.nix"
    assert refused.reason == (
        "users.users.u.hashedPasswordFile is already set in machines/vm.nix:1 (a second "
        "definition would conflict)"
    )


def test_an_already_set_target_option_refuses_the_module() -> None:
    src = (
        b'{ config, ... }: { services.tailscale = { authKeyFile = "/k";'
        b' extraUpFlags = [ "--authkey=@K@" ]; }; }\n'
    )
    source, findings, _ = fill(src, "h.nix")
    plan = plan_module(source, "h.nix", findings=findings)
    assert plan.moves == [] and plan.nix == {}
    assert "services.tailscale.authKeyFile is already set" in plan.refused[0].reason


SECOND_RUN = b"""{ config, ... }:
{
  services.prometheus.alertmanager = {
    configuration.receivers = [
      {
        name = "pushover";
        pushover_configs = [ { token = "$PUSHOVER_TOKEN"; user_key = "@NEW@"; } ];
      }
    ];
    environmentFile = config.sops.templates."alertmanager.env".path;
  };
  sops = {
    secrets."alertmanager/pushover/token" = {
      sopsFile = ../../secrets/host1.yaml;
    };
    templates."alertmanager.env" = {
      content = ''
        PUSHOVER_TOKEN=${config.sops.placeholder."alertmanager/pushover/token"}
      '';
    };
  };
}
"""


def test_a_later_run_extends_the_existing_template_and_secrets_attrset() -> None:
    source, findings, _ = fill(SECOND_RUN, "hosts/host1/default.nix")
    plan = plan_module(source, "hosts/host1/default.nix", findings=findings)
    assert plan.refused == []
    new = plan.nix["hosts/host1/default.nix"][1].decode()
    assert new.count('templates."alertmanager.env"') == 2  # the declaration and the reference
    assert (
        '        PUSHOVER_TOKEN=${config.sops.placeholder."alertmanager/pushover/token"}\n'
        '        PUSHOVER_USER_KEY=${config.sops.placeholder."alertmanager/pushover/user_key"}\n'
        "      '';"
    ) in new
    assert '    secrets."alertmanager/pushover/user_key" = {' in new
    assert "environmentFile" in new and new.count("environmentFile") == 1


def test_diff_redacts_even_short_values() -> None:
    src = b'{ config, ... }:\n{\n  services.k3s.token = "@T@";\n}\n'
    source, findings, _ = fill(src, "h.nix")
    short = source.replace(findings[0].secret.reveal().encode(), b"ab1")
    from secretkit.sensitive import Sensitive
    from tests.support.nixfind import FakeFinding

    start = short.index(b"ab1")
    finding = FakeFinding("h.nix", 3, start, start + 3, Sensitive("ab1"))
    plan = plan_module(short, "h.nix", findings=[finding])
    assert '-  services.k3s.token = "<redacted>";' in plan.diff()
    assert "ab1" not in plan.diff()


def test_module_with_options_and_config_is_edited_inside_config() -> None:
    src = b"""{ config, lib, ... }:
{
  options.my.enable = lib.mkEnableOption "mine";
  config = {
    services.k3s.token = "@TOKEN@";
  };
}
"""
    source, findings, _ = fill(src, "m.nix")
    plan = plan_module(source, "m.nix", findings=findings)
    assert plan.refused == []
    new = plan.nix["m.nix"][1].decode()
    assert '    services.k3s.tokenFile = config.sops.secrets."k3s/token".path;\n' in new
    assert '    sops.secrets."k3s/token" = {\n' in new


def test_unsupported_shapes_are_refused_with_a_reason() -> None:
    cases = {
        b'{ lib, ... }: lib.mkIf true { services.k3s.token = "@T@"; }\n': "not a module",
        b'{ ... }: let t = "@T@"; in { services.k3s.token = t; }\n': "bound to `t` in a `let`",
    }
    for src, reason in cases.items():
        source, findings, _ = fill(src, "m.nix")
        plan = plan_module(source, "m.nix", findings=findings)
        assert plan.moves == [] and plan.nix == {}
        assert reason in plan.refused[0].reason


def test_a_secret_in_a_comment_is_refused_with_the_step_that_removes_it() -> None:
    # a sops route would leave the value where it is: only deleting it helps
    source, findings, _ = fill(b'{ ... }:\n{\n  # services.k3s.token = "@T@";\n}\n', "m.nix")
    plan = plan_module(source, "m.nix", findings=findings)
    assert plan.moves == [] and plan.nix == {}
    (refused,) = plan.refused
    assert refused.message().splitlines() == [
        "m.nix:3: cannot migrate safely: the secret is in a comment",
        "  by hand: delete it from the comment on line 3 (a comment is published too)",
    ]


def test_a_deleted_binding_takes_its_trailing_comment_along() -> None:
    src = b"""{ config, ... }:
{
  services.syncthing.settings.gui = {
    user = "stian";
    password = "@PW@"; # the GUI password
  };
}
"""
    source, findings, _ = fill(src, "m.nix")
    plan = plan_module(source, "m.nix", findings=findings)
    new = plan.nix["m.nix"][1].decode()
    assert '    user = "stian";\n  };\n' in new
    assert "GUI password" not in new


def test_diff_leaves_lines_of_refused_findings_alone() -> None:
    # A refused finding stays in the new text: redacting only the old side showed its
    # line as removed and re-added, and a value under 4 characters in clear.
    src = b'{ config, ... }:\n{\n  services.k3s.token = "@T@";\n  services.foo.apiKey = "@P@";\n}\n'
    source, findings, _ = fill(src, "h.nix")
    from secretkit.sensitive import Sensitive
    from tests.support.nixfind import FakeFinding

    refused_value = findings[1].secret.reveal().encode()
    short = source.replace(refused_value, b"p9x")
    start = short.index(b"p9x")
    findings = [findings[0], FakeFinding("h.nix", 4, start, start + 3, Sensitive("p9x"))]
    plan = plan_module(short, "h.nix", findings=findings)
    assert len(plan.moves) == 1 and len(plan.refused) == 1
    diff = plan.diff()
    assert not [line for line in diff.splitlines() if line[:1] in "+-" and "apiKey" in line]
    assert '   services.foo.apiKey = "<redacted>";' in diff
    assert "p9x" not in diff
    assert '-  services.k3s.token = "<redacted>";' in diff


ETC_TWO = b"""{ config, ... }:
{
  environment.etc."restic/env".text = ''
    AWS_ACCESS_KEY_ID=@KEY_ID@
    AWS_SECRET_ACCESS_KEY=@KEY_SECRET@
  '';
}
"""


def test_two_secrets_in_one_etc_text_make_one_template_with_both_placeholders() -> None:
    # each secret used to add its own copy of the whole text (the other secret still in
    # clear): the template held both lines twice and one value in plaintext
    source, findings, values = fill(ETC_TWO, "h.nix")
    plan = plan_module(source, "h.nix", findings=findings)
    assert plan.refused == [] and len(plan.moves) == 2
    new = plan.nix["h.nix"][1].decode()
    assert all(value not in new for value in values.values())
    assert new.count("AWS_ACCESS_KEY_ID=") == 1 and new.count("AWS_SECRET_ACCESS_KEY=") == 1
    for line in ("AWS_ACCESS_KEY_ID=${config", "AWS_SECRET_ACCESS_KEY=${config"):
        assert new.count(line) == 1, line
    for move in plan.moves:
        assert new.count(f'config.sops.placeholder."{move.name}"') == 1
    assert sorted(v.reveal() for v in plan.sops["host1"].values()) == sorted(values.values())


ETC_OWNED = b"""{ config, ... }:
{
  environment.etc."restic/b2.env" = {
    text = "B2_ACCOUNT_KEY=@KEY@";
    user = "backup";
    group = "backup";
    mode = "0400";
  };
}
"""


@pytest.mark.parametrize(
    ("source", "refused"),
    [
        (ETC_OWNED, None),
        (ETC_OWNED.replace(b'"backup";\n    group', b'"+1000";\n    group'), "user"),
        (ETC_OWNED.replace(b'    mode = "0400";\n', b"    source = ./x;\n"), "source"),
    ],
)
def test_an_etc_file_owned_by_a_user_keeps_its_owner_group_and_mode(
    source: bytes, refused: str | None
) -> None:
    """helper-121: an /etc entry that set user and mode was refused ("also sets mode,
    user"), and the by-hand hint dropped owner and mode: restic's env file became root's."""
    filled, findings, values = fill(source, "h.nix")
    plan = plan_module(filled, "h.nix", findings=findings)
    if refused is not None:
        [entry] = plan.refused
        assert refused in entry.reason
        # the by-hand declaration keeps the file at its path (not "/etc/x")
        assert any('path = "/etc/restic/b2.env";' in step for step in entry.route), entry.route
        assert not any("/etc/x" in step for step in entry.route)
        return
    assert plan.refused == [] and len(plan.moves) == 1
    new = plan.nix["h.nix"][1].decode()
    assert all(value not in new for value in values.values())
    assert 'owner = "backup";' in new and 'group = "backup";' in new
    assert 'mode = "0400";' in new and 'path = "/etc/restic/b2.env";' in new


WRITE_TEXT_TWO = b"""{ config, pkgs, ... }:
{
  services.foo.configFile = pkgs.writeText "foo.ini" ''
    user_token=@TOKEN_A@
    admin_token=@TOKEN_B@
  '';
}
"""


def test_two_secrets_in_one_write_text_make_one_template() -> None:
    # both used to be refused ("overlapping edits"): each secret replaced the
    # writeText call with a template of its own
    source, findings, values = fill(WRITE_TEXT_TWO, "h.nix")
    plan = plan_module(source, "h.nix", findings=findings)
    assert plan.refused == [] and len(plan.moves) == 2
    new = plan.nix["h.nix"][1].decode()
    assert all(value not in new for value in values.values())
    assert new.count("sops.templates.") == 2  # the declaration and the one reference
    assert 'configFile = config.sops.templates."foo-config".path;' in new
    # who reads services.foo.configFile is not known: as readable as the store file was
    # (root's alone, authelia's jwtSecretFile stopped authelia), and migrate says so
    assert new.count('mode = "0444";') == 1
    assert any("services.foo.configFile: which user reads its file" in n for n in plan.notes)
    for line, move in zip(("user_token=${", "admin_token=${"), plan.moves, strict=True):
        assert f'{line}config.sops.placeholder."{move.name}"}}' in new
    # each secret is named by its line (they were foo/config and foo/config-2); the
    # template, by the option whose file it is
    assert [m.name for m in plan.moves] == ["foo/user-token", "foo/admin-token"]


def test_a_write_text_file_an_entry_knows_the_reader_of_is_that_reader_s() -> None:
    """Authelia reads ``secrets.jwtSecretFile`` as the instance's user: given a
    ``pkgs.writeText``, the file was ``0444`` with "which user reads its file is not
    known" (a stranger's), though the entry that writes that option knows the reader."""
    text = b"""{ config, pkgs, ... }:
{
  services.authelia.instances.main.secrets.jwtSecretFile = pkgs.writeText "jwt" "@JWT@";
}
"""
    source, findings, _values = fill(text, "h.nix")
    plan = plan_module(source, "h.nix", findings=findings)
    assert plan.refused == [] and len(plan.moves) == 1
    new = plan.nix["h.nix"][1].decode()
    assert "owner = config.services.authelia.instances.main.user;" in new
    assert "0444" not in new
    assert not [n for n in plan.notes if "which user reads its file" in n]


def test_a_write_text_file_an_entry_knows_the_unit_of_restarts_that_unit() -> None:
    """miniflux reads ``adminCredentialsFile`` as its unit's EnvironmentFile: given a
    ``pkgs.writeText``, the template restarted nothing, so a rotated password reached
    miniflux only at its next restart (a stranger's check)."""
    text = b"""{ config, pkgs, ... }:
{
  services.miniflux.adminCredentialsFile = pkgs.writeText "miniflux-admin" ''
    ADMIN_USERNAME=admin
    ADMIN_PASSWORD=@PW@
  '';
}
"""
    source, findings, _values = fill(text, "h.nix")
    plan = plan_module(source, "h.nix", findings=findings)
    assert plan.refused == [] and len(plan.moves) == 1
    new = plan.nix["h.nix"][1].decode()
    assert 'restartUnits = [ "miniflux.service" ];' in new


OPTION_MODULE = b"""{ config, lib, ... }:
with lib;
let cfg = config.my.grafana; in
{
  options.my.grafana.enable = mkEnableOption "grafana";
  config = @CONFIG@;
}
"""


def test_a_module_with_options_and_config_under_mkif_is_migrated_inside_mkif() -> None:
    body = '{ services.grafana.settings.security.admin_password = "@PW@"; }'
    for wrapper in ("mkIf cfg.enable @B@", "lib.mkIf (cfg.enable) (@B@)"):
        text = OPTION_MODULE.replace(b"@CONFIG@", wrapper.replace("@B@", body).encode())
        source, findings, values = fill(text, "modules/grafana.nix")
        plan = plan_module(source, "modules/grafana.nix", hosts=("a",), findings=findings)
        assert plan.refused == [], plan.refused
        assert len(plan.moves) == 1
        new = plan.nix["modules/grafana.nix"][1]
        declared = new.index(b'sops.secrets."grafana/security/admin_password"')
        assert new.index(b"mkIf") < declared < new.rindex(b"}")  # inside the mkIf body
        assert values["PW"].encode() not in new


def test_a_config_that_is_not_an_attrset_is_refused_with_that_reason() -> None:
    body = '{ services.grafana.settings.security.admin_password = "@PW@"; }'
    # mkMerge [ … ] is read: the value moves within its part (tests/plan/test_plan_module_top)
    text = OPTION_MODULE.replace(b"@CONFIG@", f"mkMerge [ {body} ]".encode())
    source, findings, _ = fill(text, "modules/grafana.nix")
    plan = plan_module(source, "modules/grafana.nix", hosts=("a",), findings=findings)
    assert plan.refused == [] and len(plan.moves) == 1
    text = OPTION_MODULE.replace(b"@CONFIG@", f"foldl' recursiveUpdate {{ }} [ {body} ]".encode())
    source, findings, _ = fill(text, "modules/grafana.nix")
    plan = plan_module(source, "modules/grafana.nix", hosts=("a",), findings=findings)
    (refused,) = plan.refused
    assert refused.reason == (
        "the module's config is not an attrset (nor mkIf or mkMerge [ … ] of them)"
    )


def test_an_option_already_set_refuses_only_the_finding_that_needs_it() -> None:
    """vaultwarden's environmentFile set by hand refuses its SMTP password; the other
    services of the module still move (they were all refused with its reason)."""
    text = b"""{ config, ... }:
{
  services.vaultwarden = {
    environmentFile = "/var/lib/vw.env";
    config.SMTP_PASSWORD = "@VW@";
  };
  services.grafana.settings.security.admin_password = "@GF@";
}
"""
    source, findings, values = fill(text, "modules/apps.nix")
    plan = plan_module(source, "modules/apps.nix", hosts=("a",), findings=findings)
    (refused,) = plan.refused
    assert refused.attrpath == "services.vaultwarden.config.SMTP_PASSWORD"
    assert refused.reason == "services.vaultwarden.environmentFile is already set; merge by hand"
    (move,) = plan.moves
    assert move.attrpath == "services.grafana.settings.security.admin_password"
    new = plan.nix["modules/apps.nix"][1]
    assert values["GF"].encode() not in new and values["VW"].encode() in new


def test_a_module_of_imports_and_config_without_options_is_migrated_inside_config() -> None:
    text = b"""{ config, ... }:
{
  imports = [ ./hardware.nix ];
  config = {
    services.grafana.settings.security.admin_password = "@PW@";
  };
}
"""
    source, findings, _ = fill(text, "hosts/a/default.nix")
    plan = plan_module(source, "hosts/a/default.nix", hosts=("a",), findings=findings)
    assert plan.refused == [], plan.refused
    (move,) = plan.moves
    assert move.name == "grafana/security/admin_password"  # not config/grafana/…
    new = plan.nix["hosts/a/default.nix"][1]
    assert new.index(b"config = {") < new.index(b"sops.secrets.") < new.rindex(b"};")


def test_a_wg_quick_key_restarts_its_wg_quick_unit() -> None:
    text = b"""{ ... }:
{
  networking.wg-quick.interfaces.wg0 = {
    privateKey = "@WG_PRIVATE@";
    peers = [ { publicKey = "@WG_PUBLIC@"; presharedKey = "@WG_PSK@"; } ];
  };
}
"""
    source, findings, _ = fill(text, "hosts/a/default.nix")
    plan = plan_module(source, "hosts/a/default.nix", hosts=("a",), findings=findings)
    assert plan.refused == [] and len(plan.moves) == 2
    new = plan.nix["hosts/a/default.nix"][1]
    assert new.count(b'restartUnits = [ "wg-quick-wg0.service" ];') == 2


def test_diff_redacts_a_refused_value_written_with_escapes() -> None:
    # The found value holds a line break the source writes as "\n": redacting the new
    # side by the value alone left the source form (the password) in the diff.
    from secretkit.scan.one_file import scan_bytes

    pw = fake.password("escaped")
    source = (
        '{ config, pkgs, ... }:\n{\n  services.k3s.token = "' + fake.password("k3s") + '";\n'
        "  services.openvpn.servers.a.config = ''\n"
        f'    auth-user-pass ${{pkgs.writeText "auth" "jdoe\\n{pw}\\n"}}\n'
        "  '';\n}\n"
    ).encode()
    findings, _ = scan_bytes("h.nix", source)
    assert [f.secret.reveal() for f in findings][1] == f"jdoe\n{pw}"
    plan = plan_module(source, "h.nix", findings=findings)
    assert len(plan.moves) == 1 and len(plan.refused) == 1
    diff = plan.diff()
    assert pw not in diff
    assert not [line for line in diff.splitlines() if line[:1] in "+-" and "auth-user-pass" in line]


USER = b'{ ... }:\n{\n  users.users.alice.initialPassword = "@PW@";\n}\n'
PERSIST = (
    b"{ lib, ... }:\n{\n  config = lib.mkIf true {\n"
    b'    users.users.alice.hashedPasswordFile = "/persist/alice";\n  };\n}\n'
)


def test_an_option_another_module_of_the_host_sets_is_not_defined_twice() -> None:
    # barrucadu/nixfiles: initialPassword in the shared module, hashedPasswordFile set by
    # its erase-your-darlings module: a second definition would not evaluate
    from secretkit.nix import cst
    from secretkit.plan.hostvalues import collect

    source, findings, _ = fill(USER, "modules/users.nix")
    sources = {"modules/users.nix": source, "modules/persist.nix": PERSIST}
    both = collect(sources, {"host1": ["modules/users.nix", "modules/persist.nix"]}, cst.parse)
    plan = plan_module(
        source, "modules/users.nix", findings=findings, extra=sources, host_values=both
    )
    assert plan.moves == [] and plan.nix == {}
    (refused,) = plan.refused
    assert refused.reason.startswith(
        "users.users.alice.hashedPasswordFile is already set in modules/persist.nix:4"
    )
    assert any("delete the literal" in step for step in refused.route)
    alone = collect(sources, {"host1": ["modules/users.nix"]}, cst.parse)
    plan = plan_module(
        source, "modules/users.nix", findings=findings, extra=sources, host_values=alone
    )
    assert [m.new_option for m in plan.moves] == ["hashedPasswordFile"]


def test_a_route_that_narrows_who_reads_the_file_says_so() -> None:
    """/etc/msmtprc was readable by every user who sends mail; the sops file is root's:
    migrate says what a user's mail needs (group and mode), once."""
    source, findings, _ = fill(
        b"{ ... }: { programs.msmtp.accounts.default = "
        b'{ host = "smtp.x"; password = "@PW@"; }; }\n',
        "h.nix",
    )
    plan = plan_module(source, "h.nix", findings=findings)
    assert [m.new_option for m in plan.moves] == ["passwordeval (cat)"]
    (note,) = [n for n in plan.notes if n.startswith("msmtp reads its password")]
    assert 'sops.secrets."msmtp/default/password".group' in note and '"0440"' in note


def test_the_access_tokens_route_says_whose_nix_commands_lose_the_token() -> None:
    """nix.conf was every user's; the template it now !includes is root's, and Nix
    skips an include it cannot read: a stranger's own `nix flake update` silently lost
    the token, and migrate never said so."""
    source, findings, _ = fill(
        b'{ ... }: { nix.settings.access-tokens = [ "github.com=@TOKEN@" ]; }\n', "h.nix"
    )
    plan = plan_module(source, "h.nix", findings=findings)
    assert [m.new_option for m in plan.moves] == [
        "nix.extraOptions = !include (extra-access-tokens)"
    ]
    (note,) = [n for n in plan.notes if n.startswith("nix.settings.access-tokens was read")]
    assert "~/.config/nix/nix.conf" in note


# a role named after its password (the role's name is no secret; the password is)
_SQL = '    CREATE ROLE "app-@V@" WITH LOGIN ' + "PASS" + "WORD '@V@';\n"


def _at_last(source: bytes, path: str, value: str) -> list[FakeFinding]:
    """The scan's one finding of ``value``: its last occurrence in ``source``."""
    start = source.rindex(value.encode())
    line = source.count(b"\n", 0, start) + 1
    return [FakeFinding(path, line, start, start + len(value), Sensitive(value))]


def test_the_placeholder_goes_where_the_secret_was_found_not_where_its_text_first_is() -> None:
    """notthebee/nix-config: an initialScript whose role is named after its password
    (`"matrix-<password>"`) got the placeholder in the role's name: the password stayed
    in the file, and the role's name came from the secret."""
    value = fake.password("role")
    source = (
        "{ pkgs, ... }: {\n  services.postgresql.initialScript = pkgs.writeText \"init.sql\" ''\n"
        + _SQL.replace("@V@", value)
        + "  '';\n}\n"
    ).encode()
    plan = plan_module(source, "h.nix", findings=_at_last(source, "h.nix", value))
    assert plan.refused == [] and len(plan.moves) == 1
    new = plan.nix["h.nix"][1].decode()
    name = plan.moves[0].name
    assert (
        f'CREATE ROLE "app-{value}" WITH LOGIN PASSWORD \'${{config.sops.placeholder."{name}"}}\';'
        in new
    )
    assert new.count(value) == 1  # (the role's name, which is no secret)


def test_a_template_rewritten_again_keeps_the_text_that_is_no_secret() -> None:
    value = fake.password("tmpl")
    source = (
        "{ config, ... }: {\n  sops.templates.\"init.sql\".content = ''\n"
        + _SQL.replace("@V@", value)
        + "  '';\n}\n"
    ).encode()
    plan = plan_module(source, "h.nix", findings=_at_last(source, "h.nix", value))
    new = plan.nix["h.nix"][1].decode()
    assert f'"app-{value}"' in new and f"PASSWORD '{value}'" not in new


def test_a_value_twice_in_a_text_with_one_unknown_finding_is_refused() -> None:
    """Where the scan's finding does not map back to the text (None), a value the text
    holds twice is refused: which one is the secret is not known."""
    from typing import Any

    from secretkit.nix import catalogue

    value, nothing = fake.password("twice"), cast(Any, None)

    def site(literal: str) -> catalogue.Site:
        return catalogue.Site(nothing, nothing, nothing, ("x",), literal, Sensitive(value))

    assert site(f"a-{value} b={value}").occurrences() is None
    assert site(f"a-{value} b={value}").pieces() is None
    assert site(f"b={value}").pieces() == ["b=", ""]


def test_a_write_text_file_systemd_or_the_service_reads_is_not_world_readable() -> None:
    """A stranger's paperless `passwordFile = pkgs.writeText …` became a mode 0444 sops
    file (every local user could read the admin password), though the catalogue records
    that systemd reads it (LoadCredential).  Known readers get their owner; an option
    no entry knows stays as readable as its store file was, and migrate says so."""
    source = (
        b'{ pkgs, ... }: {\n  services.paperless.passwordFile = pkgs.writeText "p" "@PAPERLESS@";\n'
        b'  services.nextcloud.config.adminpassFile = pkgs.writeText "n" "@NEXTCLOUD@";\n'
        b'  services.foo.passwordFile = pkgs.writeText "f" "@FOO@";\n}\n'
    )
    source, findings, _ = fill(source, "h.nix")
    plan = plan_module(source, "h.nix", findings=findings)
    assert plan.refused == [] and len(plan.moves) == 3
    new = plan.nix["h.nix"][1].decode()
    blocks = {b.split('"')[1]: b for b in new.split("sops.secrets.")[1:]}
    assert (
        "mode" not in blocks["paperless/password"] and "owner" not in blocks["paperless/password"]
    )
    assert (
        "mode" not in blocks["nextcloud/adminpass"] and "owner =" in blocks["nextcloud/adminpass"]
    )
    assert 'mode = "0444";' in blocks["foo/password"]
    assert [n.split(":")[0] for n in plan.notes if "which user reads" in n] == [
        "services.foo.passwordFile"
    ]


PRIORITIES = b"""{ lib, ... }:
{
  services.k3s.token = lib.mkOverride 90 "@K3S@";
  services.redis.servers.main.requirePass = lib.mkDefault "@REDIS@";
  users.users.bob.initialPassword = lib.mkDefault "@BOB@";
  services.grafana.settings.security.admin_password = lib.mkForce "@GRAFANA@";
}
"""


def test_a_value_set_at_another_priority_moves_and_keeps_its_priority() -> None:
    """`lib.mkDefault "…"` (mkForce, mkOverride n) was refused as "an argument of
    lib.mkDefault, not an option value": it is the option's value, at a priority the
    rewritten value keeps."""
    source, findings, values = fill(PRIORITIES, "h.nix")
    plan = plan_module(source, "h.nix", findings=findings)
    assert plan.refused == []
    new = plan.nix["h.nix"][1].decode()
    assert 'tokenFile = lib.mkOverride 90 config.sops.secrets."k3s/token".path;' in new
    assert "requirePassFile = lib.mkDefault config.sops.secrets." in new
    assert "hashedPasswordFile = lib.mkDefault config.sops.secrets." in new
    assert 'admin_password = lib.mkForce "$__file{${config.sops.secrets.' in new
    assert not any(v in new for v in values.values())


AFTER_QUOTING = b"""{ ... }:
{
  systemd.services.x.script = ''
    when=`date +%s`
    cat > /tmp/motd <<EOF
    hello
    EOF
    TOK=$(printf '%s' '@TOK@')
    run --token "$TOK"
  '';
}
"""


def test_a_value_after_a_closed_backquote_and_a_finished_here_document_moves() -> None:
    """A script whose earlier lines held `date` in backquotes and a here-document: a
    value after them was refused as "in a here-document, $'…' or backquotes" (helper-107)."""
    source, findings, values = fill(AFTER_QUOTING, "h.nix")
    plan = plan_module(source, "h.nix", findings=findings)
    assert plan.refused == []
    new = plan.nix["h.nix"][1].decode()
    assert 'TOK=$(printf \'%s\' "$(< ${config.sops.secrets."x/script".path})")' in new
    assert values["TOK"] not in new


ALERTMANAGER_GLOBAL = b"""{ ... }:
{
  services.prometheus.alertmanager.configuration = {
    global = {
      smtp_auth_username = "alerts@lab.example";
      smtp_auth_password = "@SMTP@";
    };
    receivers = [ { name = "default"; pushover_configs = [ { token = "@PUSHOVER_T@"; } ]; } ];
  };
}
"""


def test_alertmanager_global_secrets_go_through_its_environment_file_too() -> None:
    """The unit runs envsubst over the whole configuration: global's
    smtp_auth_password was refused (no route known) beside a receiver's token that
    moved (helper-107's mkHost homelab)."""
    source, findings, values = fill(ALERTMANAGER_GLOBAL, "h.nix")
    plan = plan_module(source, "h.nix", findings=findings)
    assert plan.refused == []
    new = plan.nix["h.nix"][1].decode()
    assert 'smtp_auth_password = "$GLOBAL_SMTP_AUTH_PASSWORD";' in new
    assert 'GLOBAL_SMTP_AUTH_PASSWORD=${config.sops.placeholder."alertmanager/global/' in new
    assert not any(v in new for v in values.values())


@pytest.mark.parametrize(
    ("hosts", "enable", "owner"),
    [
        # (one host's own module: the plain owner; check holds the host to it)
        (("a",), "", 'owner = "grafana";'),
        # (a module two hosts share: the user exists only where grafana is enabled)
        (("a", "b"), "", 'owner = (if config.services.grafana.enable then "grafana" else "root");'),
        # (… unless the module enables grafana itself)
        (("a", "b"), " services.grafana.enable = true;", 'owner = "grafana";'),
    ],
)
def test_a_shared_module_owns_a_secret_by_a_service_user_only_where_it_is_enabled(
    hosts: tuple[str, ...], enable: str, owner: str
) -> None:
    """helper-118: owner = "grafana" in a module a host without grafana imports made
    sops-nix stop installing every secret of that host."""
    text = (
        "{ config, ... }: { services.grafana.settings.security.admin_password = "
        f'"@PW@";{enable} }}'
    ).encode()
    source, findings, _ = fill(text, "modules/mon.nix")
    plan = plan_module(source, "modules/mon.nix", hosts=hosts, findings=findings)
    assert plan.refused == [] and len(plan.moves) == 1
    new = plan.nix["modules/mon.nix"][1].decode()
    assert owner in new


PG_POST_START = b"""{ config, ... }:
{
  systemd.services.postgresql.postStart = ''
    $PSQL -tAc "ALTER USER app WITH PASSWORD '@PW@';"
  '';
}
"""


@pytest.mark.parametrize("wrapped", [False, True])
def test_a_secret_in_postgresqls_script_is_owned_by_postgres(wrapped: bool) -> None:
    """helper-124: the module runs postgresql.service (and its postStart) as
    User = "postgres"; the secret was root's 0400 and the password became ''.  Under
    lib.mkAfter (the usual form: after the module's own lines) it was refused."""
    module = PG_POST_START.replace(b"postStart = ''", b"postStart = lib.mkAfter ''")
    source, findings, values = fill(module if wrapped else PG_POST_START, "h.nix")
    plan = plan_module(source, "h.nix", findings=findings)
    assert plan.refused == [] and len(plan.moves) == 1
    new = plan.nix["h.nix"][1].decode()
    assert all(value not in new for value in values.values())
    assert "PASSWORD '$(< ${config.sops.secrets." in new
    assert 'owner = "postgres";' in new


def test_a_script_under_with_pkgs_is_rewritten_in_place() -> None:
    """helper-130: tailscale's own NixOS snippet writes `script = with pkgs; ''…''`; the
    literal was refused as "not below the attrset the module returns" (the `with` body is
    the option's value)."""
    before = (
        b"{ config, pkgs, ... }:\n{\n  systemd.services.ts-up = {\n"
        b"    serviceConfig.Type = \"oneshot\";\n    script = with pkgs; ''\n"
        b"      ${tailscale}/bin/tailscale up -authkey @TS_KEY@\n    '';\n  };\n}\n"
    )
    source, findings, values = fill(before, "hosts/host1/default.nix")
    plan = plan_module(source, "hosts/host1/default.nix", findings=findings)
    assert plan.refused == [] and len(plan.moves) == 1
    _old, new = plan.nix["hosts/host1/default.nix"]
    assert b"script = with pkgs; ''" in new
    assert b'-authkey "$(< ${config.sops.secrets."ts-up/script".path})"' in new
    assert values["TS_KEY"].encode() not in new
