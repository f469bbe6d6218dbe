"""The gate's point service-readable: a sops secret or template handed to an option
whose reader the catalogue knows is readable by that user (sops-nix makes it root's,
mode 0400, unless ``owner`` or ``mode`` says otherwise)."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.gate.context import CheckContext
from secretkit.gate.service_readers import check_service_readers
from secretkit.gate.sops_verify import SopsJudge
from tests.conftest import git

PROMETHEUS = (
    'services.prometheus.scrapeConfigs = [ { job_name = "vps"; basic_auth = {{ '
    'username = "p"; password_file = config.sops.secrets."prom/pw".path; }}; } ];'
)


def _module(fields: str) -> str:
    return (
        "{ config, ... }: { " + PROMETHEUS.replace("{{", "{").replace("}}", "}") + " "
        f'sops.secrets."prom/pw" = {{ sopsFile = ./s.yaml; {fields} }}; }}'
    )


def _check(repo: Path, source: str, release: str | None = None) -> list[tuple[bool, str, str]]:
    mod = repo / "hosts" / "h" / "mod.nix"
    mod.parent.mkdir(parents=True, exist_ok=True)
    mod.write_text(source + "\n")
    if release is not None:
        url = f"github:NixOS/nixpkgs/nixos-{release}"
        (repo / "flake.nix").write_text(
            f'{{ inputs.nixpkgs.url = "{url}"; outputs = _: {{ }}; }}\n'
        )
    git(repo, "add", "-A")
    results = check_service_readers(CheckContext(root=repo, judge=SopsJudge()))
    return [(r.ok, r.message, r.fix) for r in results]


@pytest.mark.parametrize(
    "fields",
    [
        'owner = "prometheus";',
        "owner = config.users.users.prometheus.name;",
        'owner = config.users.users."prometheus".name;',
        'mode = "0444";',  # (anyone may read it)
    ],
)
def test_a_file_its_reader_can_open_passes(tmp_git_repo: Path, fields: str) -> None:
    (ok, message, _fix), *warned = _check(tmp_git_repo, _module(fields))
    assert ok
    assert message.startswith("1 secret file(s) handed to options whose reader is known")
    # (a mode every local user can read passes, with a warning: helper-119)
    world = "0444" in fields
    assert [(w[0], w[1].startswith("warning: ")) for w in warned] == [(True, True)] * world
    if world:
        assert (
            'sets mode = "0444"; every local user (and every service) can read it' in warned[0][1]
        )


def test_no_owner_fails_and_the_fix_makes_it_pass(tmp_git_repo: Path) -> None:
    ((ok, message, fix),) = _check(tmp_git_repo, _module(""))
    assert not ok
    assert message.startswith('hosts/h/mod.nix:1: sops.secrets."prom/pw" sets no owner, but ')
    assert "basic_auth.password_file (hosts/h/mod.nix:1) is read by the prometheus user" in message
    assert fix == 'add owner = "prometheus"; to sops.secrets."prom/pw" (hosts/h/mod.nix:1)'
    # the fix, done as it says
    added = fix.split(" to ")[0].removeprefix("add ")
    ((ok, _message, _fix),) = _check(tmp_git_repo, _module(added))
    assert ok


def test_another_owner_fails(tmp_git_repo: Path) -> None:
    ((ok, message, fix),) = _check(tmp_git_repo, _module('owner = "grafana";'))
    assert not ok
    assert 'sops.secrets."prom/pw" is owned by grafana, but ' in message
    assert fix.startswith('set owner = "prometheus"; in sops.secrets."prom/pw"')


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ("owner = cfg.user;", "owner = cfg.user; names a user this check cannot tell"),
        (
            'group = "keys"; mode = "0440";',
            'group = "keys"; may or may not hold the prometheus user',
        ),
    ],
)
def test_what_cannot_be_compared_is_not_passed(tmp_git_repo: Path, fields: str, said: str) -> None:
    ((ok, message, fix),) = _check(tmp_git_repo, _module(fields))
    assert not ok
    assert message.startswith(
        'hosts/h/mod.nix:1: cannot verify that the prometheus user can read sops.secrets."prom/pw"'
    )
    assert said in message
    assert 'owner = "prometheus";' in fix


WIFI = (
    '{ config, ... }: { networking.wireless.secretsFile = config.sops.templates."wifi".path; '
    'sops.templates."wifi".content = "psk=${config.sops.placeholder.psk}"; '
    "sops.secrets.psk = { }; }"
)


@pytest.mark.parametrize(
    ("release", "fails"),
    [("24.11", False), ("25.05", True)],  # (24.11 still ran wpa_supplicant as root)
)
def test_a_template_is_judged_on_the_pinned_release(
    tmp_git_repo: Path, release: str, fails: bool
) -> None:
    ((ok, message, fix),) = _check(tmp_git_repo, WIFI, release)
    assert ok is not fails
    if fails:
        assert 'sops.templates."wifi" sets no owner, but networking.wireless.secretsFile' in message
        assert fix.startswith('add owner = "wpa_supplicant"; to sops.templates."wifi"')
    else:
        assert message == (
            "1 secret file(s) handed to options whose reader runs as root on the pinned "
            "release: nothing to own"
        )


def test_on_an_unknown_release_the_owner_is_chosen_by_the_hosts_own(tmp_git_repo: Path) -> None:
    ((ok, _message, fix),) = _check(tmp_git_repo, WIFI)
    assert not ok
    owner = fix.removeprefix("add owner = ").split("; to ")[0]
    assert owner == (
        '(if builtins.compareVersions config.system.nixos.release "25.05" >= 0 '
        'then "wpa_supplicant" else "root")'
    )
    fixed = WIFI.replace('content = "psk', f'owner = {owner}; content = "psk')
    fixed = fixed.replace('sops.templates."wifi".content', 'sops.templates."wifi" = { content')
    fixed = fixed.replace('}"; sops.secrets', '}"; }; sops.secrets')
    assert [ok for ok, _m, _f in _check(tmp_git_repo, fixed)] == [True]


def test_systemd_hands_the_file_over_from_its_release_on(tmp_git_repo: Path) -> None:
    source = (
        "{ config, ... }: { services.nextcloud.config.adminpassFile = "
        'config.sops.secrets."nc/admin".path; sops.secrets."nc/admin" = { }; }'
    )
    ((ok, message, _fix),) = _check(tmp_git_repo, source, "25.05")
    assert ok and "runs as root on the pinned release" in message  # (LoadCredential)
    ((ok, message, fix),) = _check(tmp_git_repo, source, "24.11")
    assert not ok
    assert "read by the nextcloud user" in message
    assert fix.startswith('add owner = "nextcloud";')


def test_a_value_reference_and_an_unknown_reader_are_not_judged(tmp_git_repo: Path) -> None:
    source = (
        "{ config, ... }: { services.foo.passwordFile = config.sops.secrets.a.path; "
        "services.prometheus.scrapeConfigs = [ { "
        'bearer_token_file = "${config.sops.placeholder.b}"; } ]; '
        "sops.secrets.a = { }; sops.secrets.b = { }; }"
    )
    assert _check(tmp_git_repo, source) == [
        (
            True,
            "no secret file is handed to an option whose reader the catalogue knows: "
            "nothing to check (1 other reference(s) go where the catalogue does not know "
            "who reads them: not judged)",
            "",
        )
    ]


def _nginx(owner: str, user: str = "") -> str:
    return (
        "{ config, ... }: { services.nginx.virtualHosts.web.basicAuthFile = "
        f"config.sops.secrets.htpasswd.path; {user} "
        f"sops.secrets.htpasswd = {{ owner = {owner}; }}; }}"
    )


@pytest.mark.parametrize(
    ("owner", "user", "expected"),
    [
        ('"nginx"', "", None),  # (services.nginx.user's default)
        ("config.services.nginx.user", 'services.nginx.user = "www";', None),
        ('"www"', 'services.nginx.user = "www";', None),
        (
            '"nginx"',
            'services.nginx.user = "www";',
            "is owned by nginx (config.services.nginx.user is www)",
        ),
        ('"www"', "", "is owned by www (config.services.nginx.user is nginx)"),
        ('"www"', "services.nginx.user = cfg.user;", "cannot verify"),
    ],
)
def test_an_owner_written_for_a_user_option_is_held_to_what_the_repository_sets(
    tmp_git_repo: Path, owner: str, user: str, expected: str | None
) -> None:
    ((ok, message, fix),) = _check(tmp_git_repo, _nginx(owner, user))
    assert ok is (expected is None), message
    if expected is not None:
        assert expected in message
        assert fix.startswith("set owner = config.services.nginx.user; in sops.secrets.")


def test_a_virtual_host_named_with_dots_is_one_attribute(tmp_git_repo: Path) -> None:
    source = (
        '{ config, ... }: { services.nginx.virtualHosts."status.example.org".basicAuthFile = '
        'config.sops.templates."htpasswd".path; sops.templates."htpasswd".content = "x"; }'
    )
    ((ok, message, fix),) = _check(tmp_git_repo, source)
    assert not ok
    assert 'virtualHosts."status.example.org".basicAuthFile (hosts/h/mod.nix:1)' in message
    assert fix.startswith('add owner = config.services.nginx.user; to sops.templates."htpasswd"')


FLAKE = """{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";
  outputs = { nixpkgs, ... }: let
    mk = name: nixpkgs.lib.nixosSystem { modules = [ ./hosts/${name} ]; };
  in { nixosConfigurations = { alpha = mk "alpha"; beta = mk "beta"; }; };
}
"""


def test_a_user_option_is_read_from_the_hosts_of_the_declaration(tmp_git_repo: Path) -> None:
    """alpha runs nginx as www; beta keeps the default (nginx): owner = "nginx" is right
    on beta alone."""
    (tmp_git_repo / "flake.nix").write_text(FLAKE)
    on = "services.nginx.enable = true;"
    for host, user in (("alpha", f'{on} services.nginx.user = "www";'), ("beta", on)):
        (tmp_git_repo / "hosts" / host).mkdir(parents=True)
        (tmp_git_repo / "hosts" / host / "default.nix").write_text(
            "{ config, ... }: { services.nginx.virtualHosts.web.basicAuthFile = "
            f'config.sops.secrets.htpasswd.path; {user} sops.secrets.htpasswd.owner = "nginx"; }}\n'
        )
    git(tmp_git_repo, "add", "-A")
    results = check_service_readers(CheckContext(root=tmp_git_repo, judge=SopsJudge()))
    assert [(r.ok, r.paths[0]) for r in results] == [(False, "hosts/alpha/default.nix")]
    assert "is owned by nginx (config.services.nginx.user is www)" in results[0].message


def _repo(repo: Path, files: dict[str, str]) -> list[tuple[bool, str, str]]:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text + "\n")
    git(repo, "add", "-A")
    results = check_service_readers(CheckContext(root=repo, judge=SopsJudge()))
    return [(r.ok, r.message, r.fix) for r in results]


BEARER = 'services.prometheus.scrapeConfigs = [ { job_name = "n"; bearer_token_file = {}; } ];'


@pytest.mark.parametrize(
    "source",
    [
        # (a let-bound reference, given to the option by its name)
        "{ config, ... }: let tok = config.sops.secrets.b.path; in { "
        + BEARER.replace("{}", "tok")
        + " sops.secrets.b = { }; }",
        # (a let inside the option's value)
        "{ config, ... }: { "
        + BEARER.replace("{}", "let t = config.sops.secrets.b.path; in t")
        + " sops.secrets.b = { }; }",
        # (a list made by map: the items' paths have no index)
        "{ config, ... }: { services.prometheus.scrapeConfigs = map (h: { job_name = h; "
        'basic_auth.password_file = config.sops.secrets.b.path; }) [ "a" ]; '
        "sops.secrets.b = { }; }",
        # (a TLS key prometheus reads for a scrape)
        "{ config, ... }: { services.prometheus.scrapeConfigs = [ { tls_config.key_file = "
        "config.sops.secrets.b.path; } ]; sops.secrets.b = { }; }",
    ],
)
def test_a_reference_reaching_a_known_reader_is_judged(tmp_git_repo: Path, source: str) -> None:
    ((ok, message, fix),) = _check(tmp_git_repo, source)
    assert not ok, message
    assert 'sops.secrets."b" sets no owner, but services.prometheus.' in message
    assert fix.startswith('add owner = "prometheus"; to sops.secrets."b"')


def test_an_owner_set_in_another_module_is_merged(tmp_git_repo: Path) -> None:
    results = _repo(
        tmp_git_repo,
        {
            "host/secrets.nix": "{ sops.secrets.b = { }; }",
            "host/prom.nix": "{ config, ... }: { "
            + BEARER.replace("{}", "config.sops.secrets.b.path")
            + ' sops.secrets.b.owner = "prometheus"; }',
        },
    )
    assert [ok for ok, _m, _f in results] == [True]


@pytest.mark.parametrize(
    ("fields", "verdict"),
    [
        ('owner = "root"; group = config.users.users.wpa_supplicant.group; mode = "0440";', None),
        ('owner = "root"; group = "wpa_supplicant"; mode = "0440";', None),
        ('group = "keys"; mode = "0440";', "cannot verify"),
        ('owner = "root"; group = "keys"; mode = "0440";', "cannot verify"),
        ('mode = "0400";', "sets no owner"),  # (0400 grants the group nothing)
        ('owner = "root"; group = "wpa_supplicant"; mode = "0400";', "is owned by root"),
    ],
)
def test_a_group_that_may_read_is_judged_by_its_mode(
    tmp_git_repo: Path, fields: str, verdict: str | None
) -> None:
    source = WIFI.replace(
        'sops.templates."wifi".content', f'sops.templates."wifi" = {{ {fields} content'
    )
    source = source.replace('}"; sops.secrets', '}"; }; sops.secrets')
    ((ok, message, _fix),) = _check(tmp_git_repo, source, "25.05")
    assert ok is (verdict is None), message
    if verdict is not None:
        assert verdict in message


def test_one_file_for_two_users_fails_and_the_fix_works(tmp_git_repo: Path) -> None:
    source = (
        "{ config, ... }: { "
        + BEARER.replace("{}", "config.sops.secrets.b.path")
        + " networking.wireless.secretsFile = config.sops.secrets.b.path; "
        'sops.secrets.b = { owner = "prometheus"; }; }'
    )
    ((ok, message, fix),) = _check(tmp_git_repo, source, "25.05")
    assert not ok
    assert "is read by two users at run time, the prometheus user" in message
    second = 'sops.secrets."b-wpa_supplicant" = { key = "b"; owner = "wpa_supplicant"; };'
    assert fix.startswith(f"declare a second one, {second} (the same value)")
    fixed = source.replace(
        "networking.wireless.secretsFile = config.sops.secrets.b.path;",
        'networking.wireless.secretsFile = config.sops.secrets."b-wpa_supplicant".path; ' + second,
    )
    assert [ok for ok, _m, _f in _check(tmp_git_repo, fixed, "25.05")] == [True]


def test_the_owner_migrate_writes_for_an_unknown_release_passes_on_a_known_one(
    tmp_git_repo: Path,
) -> None:
    owner = (
        '(if builtins.compareVersions config.system.nixos.release "25.05" >= 0 '
        'then "wpa_supplicant" else "root")'
    )
    source = WIFI.replace(
        'sops.templates."wifi".content', f'sops.templates."wifi" = {{ owner = {owner}; content'
    )
    source = source.replace('}"; sops.secrets', '}"; }; sops.secrets')
    assert [ok for ok, _m, _f in _check(tmp_git_repo, source, "25.05")] == [True]


def test_an_inline_module_of_a_flake_is_read(tmp_git_repo: Path) -> None:
    flake = """{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";
  outputs = { nixpkgs, ... }: {
    nixosConfigurations.mon = nixpkgs.lib.nixosSystem {
      modules = [
        ({ config, ... }: {
          sops.secrets.scrape = { };
          services.prometheus.scrapeConfigs = [
            { basic_auth.password_file = config.sops.secrets.scrape.path; }
          ];
        })
      ];
    };
  };
}"""
    ((ok, message, fix),) = _repo(tmp_git_repo, {"flake.nix": flake})
    assert not ok
    assert message.startswith('flake.nix:7: sops.secrets."scrape" sets no owner')
    assert fix == 'add owner = "prometheus"; to sops.secrets."scrape" (flake.nix:7)'


def test_a_module_of_two_hosts_is_held_to_each_hosts_user(tmp_git_repo: Path) -> None:
    """web1 runs nginx as www, web2 keeps the default: owner = "www" fails on web2."""
    module = (
        '{ config, ... }: { sops.secrets.htpasswd = { owner = "www"; }; '
        'services.nginx.virtualHosts."example.org".basicAuthFile = '
        "config.sops.secrets.htpasswd.path; }"
    )
    files = {"flake.nix": FLAKE, "modules/auth.nix": module}
    on = "services.nginx.enable = true;"
    for host, user in (("alpha", f'{on} services.nginx.user = "www";'), ("beta", on)):
        files[f"hosts/{host}/default.nix"] = f"{{ imports = [ ../../modules/auth.nix ]; {user} }}"
    ((ok, message, fix),) = _repo(tmp_git_repo, files)
    assert not ok
    assert "is owned by www (config.services.nginx.user is nginx) on host beta" in message
    # (a module of two hosts: the owner only where nginx runs, helper-120)
    conditional = '(if config.services.nginx.enable then config.services.nginx.user else "root")'
    assert fix.startswith(f"set owner = {conditional}; in sops.secrets.")
    files["modules/auth.nix"] = module.replace('"www"', conditional)  # (the fix)
    assert [ok for ok, _m, _f in _repo(tmp_git_repo, files)] == [True]
    files["modules/auth.nix"] = module.replace('"www"', "config.services.nginx.user")
    assert [ok for ok, _m, _f in _repo(tmp_git_repo, files)] == [True]


@pytest.mark.parametrize(
    "owner",
    [
        '(if config.services.grafana.enable then "grafana" else "root")',
        'if config.services.grafana.enable then "grafana" else "root"',
        'lib.mkIf config.services.grafana.enable "grafana"',
        'mkIf (config.services.grafana.enable) "grafana"',
        "config.users.users.grafana.name",  # (a host without the user does not evaluate)
    ],
)
def test_every_spelling_of_an_owner_where_the_service_runs_passes(
    tmp_git_repo: Path, owner: str
) -> None:
    """helper-120: only the parenthesised form was accepted, and the fix offered for the
    others (a plain owner) broke the host without grafana."""
    module = (
        "{ config, lib, ... }: { services.grafana.settings.security.admin_password = "
        f'"$__file{{${{config.sops.secrets.g.path}}}}"; sops.secrets.g = {{ owner = {owner}; }}; }}'
    )
    files = {"flake.nix": FLAKE, "modules/mon.nix": module}
    for host, enable in (("alpha", "services.grafana.enable = true;"), ("beta", "")):
        files[f"hosts/{host}/default.nix"] = f"{{ imports = [ ../../modules/mon.nix ]; {enable} }}"
    assert [(ok, m) for ok, m, _f in _repo(tmp_git_repo, files) if not ok] == []
    wrong = module.replace('"grafana"', '"nobody"').replace(".grafana.name", ".nobody.name")
    files["modules/mon.nix"] = wrong  # (the right condition, the wrong user: still judged)
    assert [ok for ok, _m, _f in _repo(tmp_git_repo, files)] != [True]


def test_an_owner_the_pinned_release_has_no_user_for_fails(tmp_git_repo: Path) -> None:
    """24.11 runs wpa_supplicant as root and has no wpa_supplicant user: sops-nix would
    stop on that owner; the owner migrate writes for an unknown release is right on
    both."""
    source = WIFI.replace(
        'sops.templates."wifi".content',
        'sops.templates."wifi" = { owner = "wpa_supplicant"; content',
    ).replace('}"; sops.secrets', '}"; }; sops.secrets')
    ((ok, message, fix),) = _check(tmp_git_repo, source, "24.11")
    assert not ok
    assert "NixOS has no wpa_supplicant user before 25.05" in message
    owner = fix.removeprefix("set owner = ").split("; in ")[0]
    assert owner.startswith("(if builtins.compareVersions config.system.nixos.release")
    fixed = source.replace('owner = "wpa_supplicant";', f"owner = {owner};")
    assert [ok for ok, _m, _f in _check(tmp_git_repo, fixed, "24.11")] == [True]
    assert [ok for ok, _m, _f in _check(tmp_git_repo, fixed, "25.05")] == [True]


def test_an_inherited_owner_cannot_be_told_and_the_fix_replaces_it(tmp_git_repo: Path) -> None:
    source = _module("inherit owner;").replace("{ config, ... }:", '{ config, owner ? "x", ... }:')
    ((ok, message, fix),) = _check(tmp_git_repo, source)
    assert not ok
    assert "owner comes from `inherit owner;`, which this check cannot tell" in message
    assert fix.startswith(
        'take owner out of `inherit owner;` and write owner = "prometheus"; in sops.secrets.'
    )
    fixed = source.replace("inherit owner;", 'owner = "prometheus";')
    assert [ok for ok, _m, _f in _check(tmp_git_repo, fixed)] == [True]


@pytest.mark.parametrize(
    "bound",
    ["s = config.sops.secrets;", "inherit (config.sops) secrets;"],
)
def test_a_reference_through_a_name_for_the_secrets_is_judged(
    tmp_git_repo: Path, bound: str
) -> None:
    alias = "s" if bound.startswith("s ") else "secrets"
    source = (
        f"{{ config, ... }}: let {bound} in {{ "
        + BEARER.replace("{}", f"{alias}.b.path")
        + " sops.secrets.b = { }; }"
    )
    ((ok, message, _fix),) = _check(tmp_git_repo, source)
    assert not ok
    assert 'sops.secrets."b" sets no owner, but services.prometheus.' in message


def test_a_host_sharing_the_declaration_without_the_service_has_no_such_user(
    tmp_git_repo: Path,
) -> None:
    """A module shared by alpha (prometheus on) and beta (off): beta has no prometheus
    user, and sops-nix would stop installing its secrets on that owner."""
    module = (
        "{ config, ... }: { "
        + BEARER.replace("{}", "config.sops.secrets.b.path")
        + ' sops.secrets.b = { owner = "prometheus"; }; }'
    )
    files = {"flake.nix": FLAKE, "modules/prom.nix": module}
    for host, enable in (("alpha", "services.prometheus.enable = true;"), ("beta", "")):
        files[f"hosts/{host}/default.nix"] = f"{{ imports = [ ../../modules/prom.nix ]; {enable} }}"
    ((ok, message, fix),) = _repo(tmp_git_repo, files)
    assert not ok
    assert message.startswith(
        "modules/prom.nix:1: cannot verify that host beta has the prometheus user, who "
        'owns sops.secrets."b": services.prometheus.enable is not set true'
    )
    assert fix == (
        'write owner = (if config.services.prometheus.enable then "prometheus" else "root"); '
        'in sops.secrets."b" (modules/prom.nix:1), or set services.prometheus.enable = true; '
        "for host beta"
    )
    where_enabled = fix.removeprefix("write ").partition(";")[0]
    shared = dict(
        files, **{"modules/prom.nix": module.replace('owner = "prometheus"', where_enabled)}
    )
    assert [ok for ok, _m, _f in _repo(tmp_git_repo, shared)] == [True]  # (the first fix)
    files["hosts/beta/default.nix"] = files["hosts/alpha/default.nix"]  # (the second)
    assert [ok for ok, _m, _f in _repo(tmp_git_repo, files)] == [True]


def test_a_grafana_file_provider_reference_is_judged_on_each_host(tmp_git_repo: Path) -> None:
    """grafana opens the file a ``$__file{…}`` setting names as its own user, which
    exists only where ``services.grafana.enable`` is set (helper-118: a shared module
    owned by "grafana" on a host without grafana passed)."""
    module = (
        "{ config, ... }: { services.grafana.settings.security.admin_password = "
        '"$__file{${config.sops.secrets.g.path}}"; sops.secrets.g = { OWNER }; }'
    )
    files = {"flake.nix": FLAKE, "modules/mon.nix": module.replace("OWNER", "")}
    for host, enable in (("alpha", "services.grafana.enable = true;"), ("beta", "")):
        files[f"hosts/{host}/default.nix"] = f"{{ imports = [ ../../modules/mon.nix ]; {enable} }}"
    results = _repo(tmp_git_repo, files)
    assert [ok for ok, _m, _f in results] == [False]  # (root's: grafana cannot open it)
    assert "sets no owner" in results[0][1]
    files["modules/mon.nix"] = module.replace("OWNER", 'owner = "grafana";')
    ((ok, message, _fix),) = _repo(tmp_git_repo, files)
    assert not ok and "host beta has the grafana user" in message
    where_enabled = '(if config.services.grafana.enable then "grafana" else "root")'
    files["modules/mon.nix"] = module.replace("OWNER", f"owner = {where_enabled};")
    assert [ok for ok, _m, _f in _repo(tmp_git_repo, files)] == [True]


def test_a_reference_inside_a_with_of_the_secrets_is_judged(tmp_git_repo: Path) -> None:
    source = (
        "{ config, ... }: with config.sops.secrets; { "
        + BEARER.replace("{}", "b.path")
        + " sops.secrets.b = { }; }"
    )
    ((ok, message, _fix),) = _check(tmp_git_repo, source)
    assert not ok
    assert 'sops.secrets."b" sets no owner, but services.prometheus.' in message


def test_a_needed_for_users_secret_a_service_reads_is_roots(tmp_git_repo: Path) -> None:
    """helper-119: sops-nix installs neededForUsers secrets with -ignore-passwd, as
    root:root whatever owner says (Mic92/sops-nix@56b24064, sops-install-secrets
    validateSecret), so wpa_supplicant (25.05 on) cannot open misterio's wireless file;
    check passed it as owned by wpa_supplicant."""
    decl = 'sops.secrets.w = { owner = "wpa_supplicant"; neededForUsers = true; };'
    source = (
        "{ config, ... }: { networking.wireless.enable = true; "
        "networking.wireless.secretsFile = config.sops.secrets.w.path; " + decl + " }"
    )
    ((ok, message, fix),) = _check(tmp_git_repo, source, "25.05")
    assert not ok
    assert 'sops.secrets."w" sets neededForUsers = true, so sops-nix installs it' in message
    assert fix.startswith('drop neededForUsers = true; from sops.secrets."w"')
    fixed = source.replace(" neededForUsers = true;", "")
    assert [ok for ok, _m, _f in _check(tmp_git_repo, fixed, "25.05")] == [True]


def test_a_template_rendering_a_programs_secrets_file_is_held_to_its_user(
    tmp_git_repo: Path,
) -> None:
    """helper-118 (repro 1): Home Assistant reads secrets.yaml from its config
    directory as hass; a template placed there without that owner passed."""
    template = (
        'sops.templates."hass-secrets.yaml" = { content = "k: v\\n"; '
        'path = "/var/lib/hass/secrets.yaml"; OWNER };'
    )
    source = "{ config, ... }: { services.home-assistant.enable = true; " + template + " }"
    ((ok, message, fix),) = _check(tmp_git_repo, source.replace("OWNER", ""))
    assert not ok and "is read by the hass user at run time" in message
    assert fix.startswith('add owner = "hass"; to sops.templates."hass-secrets.yaml"')
    owned = source.replace("OWNER", 'owner = "hass";')
    assert [ok for ok, _m, _f in _check(tmp_git_repo, owned)] == [True]


def test_an_owner_that_is_a_dynamic_user_fails(tmp_git_repo: Path) -> None:
    """helper-119 (repro 3): alertmanager runs with DynamicUser, so no alertmanager
    user exists for sops-nix to look up; owner = "alertmanager" passed."""
    source = (
        "{ config, ... }: { services.prometheus.alertmanager.configuration.global."
        "smtp_auth_password_file = config.sops.secrets.smtp.path; sops.secrets.smtp = { OWNER }; }"
    )
    ((ok, message, fix),) = _check(tmp_git_repo, source.replace("OWNER", 'owner = "alertmanager";'))
    assert not ok and "runs with DynamicUser" in message
    assert fix.startswith('take owner out of sops.secrets."smtp"')
    assert "LoadCredential" in fix
    assert [ok for ok, _m, _f in _check(tmp_git_repo, source.replace("OWNER", ""))] == [True]


@pytest.mark.parametrize(
    ("elsewhere", "flagged"),
    [
        ("", True),
        ("# users.users.appuser is made by hand", True),  # (a comment makes nothing)
        ('systemd.services.app.serviceConfig.User = "appuser";', True),  # (makes none)
        ('users.users.appuser = { isSystemUser = true; group = "app"; };', False),
        ('users.users."appuser".isSystemUser = true;', False),
        ("services.appuser.enable = true;", False),  # (a module named for it)
        ('services.app.user = "appuser";', False),  # (a module's user option)
    ],
)
def test_an_owner_no_file_makes_cannot_be_verified(
    tmp_git_repo: Path, elsewhere: str, flagged: bool
) -> None:
    """helper-119 (repro 3): owner = "appuser" with no users.users.appuser passed;
    sops-nix stops installing the host's secrets on an owner it cannot find."""
    source = (
        '{ config, ... }: { sops.secrets.t = { owner = "appuser"; }; '
        f"x = config.sops.secrets.t.path;\n{elsewhere}\n}}"
    )
    found = [m for ok, m, _f in _check(tmp_git_repo, source) if not ok]
    assert [m.startswith("cannot verify: ") and "users.users.appuser" in m for m in found] == (
        [True] if flagged else []
    )


def test_an_owner_a_catalogue_reader_or_nixos_makes_is_not_flagged(tmp_git_repo: Path) -> None:
    for owner in ("prometheus", "postgres", "root", "nginx"):
        source = (
            f'{{ config, ... }}: {{ sops.secrets.t = {{ owner = "{owner}"; }}; '
            "x = config.sops.secrets.t.path; }"
        )
        assert [m for ok, m, _f in _check(tmp_git_repo, source) if not ok] == [], owner


def test_a_world_readable_public_key_is_not_warned_about(tmp_git_repo: Path) -> None:
    """wimpy keeps ssh and GPG public keys in sops with mode 0644: anyone's to read."""
    for name, warned in (("ssh_host_ed25519_key_pub", False), ("GPG_PUBLIC_KEY", False),
                         ("wg_private", True)):  # fmt: skip
        source = f'{{ sops.secrets.{name} = {{ mode = "0644"; }}; }}'
        found = [m for ok, m, _f in _check(tmp_git_repo, source) if m.startswith("warning: ")]
        assert bool(found) is warned, name


@pytest.mark.parametrize("group", ['"nginx"', "config.services.nginx.group"])
def test_nginx_s_own_group_with_a_group_readable_mode_passes(
    tmp_git_repo: Path, group: str
) -> None:
    """helper-120: nginx's module gives its user the group cfg.group ("nginx" by
    default), so group = "nginx" with mode 0440 is readable by nginx."""
    source = (
        "{ config, ... }: { services.nginx.enable = true; "
        "services.nginx.virtualHosts.a.basicAuthFile = config.sops.secrets.h.path; "
        f'sops.secrets.h = {{ group = {group}; mode = "0440"; }}; }}'
    )
    assert [ok for ok, _m, _f in _check(tmp_git_repo, source)] == [True]
    shut = source.replace('"0440"', '"0400"')  # (the group may not read)
    assert [ok for ok, _m, _f in _check(tmp_git_repo, shut)] == [False]


@pytest.mark.parametrize(
    ("owner", "made_by"),
    [
        ("redis-cache", "services.redis.servers.cache.enable = true;"),
        ("node-exporter", "services.prometheus.exporters.node.enable = true;"),
        ("nebula-mesh", "services.nebula.networks = { mesh = { enable = true; }; };"),
        ("turnserver", "services.coturn.enable = true;"),
    ],
)
def test_a_user_a_module_names_after_its_instance_is_not_flagged(
    tmp_git_repo: Path, owner: str, made_by: str
) -> None:
    """helper-120: NixOS makes redis-<name>, <name>-exporter, nebula-<net> and
    coturn's turnserver; they were "no file makes users.users.<u>"."""
    source = (
        f'{{ config, ... }}: {{ sops.secrets.t = {{ owner = "{owner}"; }}; '
        f"x = config.sops.secrets.t.path; {made_by} }}"
    )
    assert [m for ok, m, _f in _check(tmp_git_repo, source) if not ok] == []
    alone = source.replace(made_by, "")
    flagged = [m for ok, m, _f in _check(tmp_git_repo, alone) if not ok]
    assert len(flagged) == (0 if owner == "turnserver" else 1)  # (turnserver: a known name)


def test_a_catalogue_users_owner_where_no_host_enables_the_service_cannot_be_verified(
    tmp_git_repo: Path,
) -> None:
    """helper-120 (repro 6): owner = "grafana" on a file given to a reader the
    catalogue does not know passed, though no host enables grafana (sops-nix's group
    default reads users.grafana.group: the host does not evaluate)."""
    module = (
        '{ config, ... }: { sops.secrets.g = { owner = "grafana"; }; '
        "services.foo.passwordFile = config.sops.secrets.g.path; }"
    )
    files = {"flake.nix": FLAKE, "modules/m.nix": module}
    for host in ("alpha", "beta"):
        files[f"hosts/{host}/default.nix"] = "{ imports = [ ../../modules/m.nix ]; }"
    ((_ok, message, fix),) = [r for r in _repo(tmp_git_repo, files) if not r[0]]
    assert message.startswith('cannot verify: modules/m.nix:1: sops.secrets."g" sets owner')
    assert "for host(s) alpha, beta" in message
    conditional = '(if config.services.grafana.enable then "grafana" else "root")'
    assert fix.startswith(f"write owner = {conditional};")
    files["modules/m.nix"] = module.replace('"grafana"', conditional)  # (the fix)
    assert [r for r in _repo(tmp_git_repo, files) if not r[0]] == []
    for host in ("alpha", "beta"):  # (or both enable grafana)
        files[f"hosts/{host}/default.nix"] = (
            "{ imports = [ ../../modules/m.nix ]; services.grafana.enable = true; }"
        )
    files["modules/m.nix"] = module
    assert [r for r in _repo(tmp_git_repo, files) if not r[0]] == []


def test_a_catalogue_users_name_the_host_declares_itself_is_its_user(tmp_git_repo: Path) -> None:
    """helper-123: a rootless podman container run as users.users.grafana (podman.user)
    with its env file owned by grafana was "cannot verify" for want of
    services.grafana.enable, and the fix made the file root's, which podman (as grafana)
    cannot read.  A user the host declares itself exists; one under a mkIf may not."""
    module = (
        '{ config, ... }: { sops.secrets.g = { owner = "grafana"; }; '
        "services.foo.passwordFile = config.sops.secrets.g.path; }"
    )
    files = {"flake.nix": FLAKE, "modules/m.nix": module}
    for host in ("alpha", "beta"):
        files[f"hosts/{host}/default.nix"] = (
            "{ imports = [ ../../modules/m.nix ]; "
            "users.users.grafana = { isNormalUser = true; linger = true; }; }"
        )
    assert [r for r in _repo(tmp_git_repo, files) if not r[0]] == []
    files["hosts/beta/default.nix"] = (
        "{ lib, config, ... }: { imports = [ ../../modules/m.nix ]; users.users = "
        "lib.mkIf config.x.enable { grafana = { isNormalUser = true; }; }; }"
    )
    ((_ok, message, _fix),) = [r for r in _repo(tmp_git_repo, files) if not r[0]]
    assert "for host(s) beta" in message


def _restic(user: str, fields: str) -> str:
    return (
        "{ config, ... }: { services.restic.backups.b2 = { " + user + 'repository = "/srv/r"; '
        'passwordFile = config.sops.secrets."restic/b2/password".path; }; '
        f'sops.secrets."restic/b2/password" = {{ sopsFile = ./s.yaml; {fields} }}; }}'
    )


@pytest.mark.parametrize(
    ("user", "fields", "passes"),
    [
        ('user = "backup"; ', 'owner = "backup";', True),  # (what migrate writes)
        ('user = "backup"; ', "owner = config.services.restic.backups.b2.user;", True),
        ('user = "backup"; ', "", False),  # root's 0400: restic, as backup, cannot open it
        ('user = "backup"; ', 'owner = "postgres";', False),
        ("", "", True),  # (the backup runs as root, the option's default)
        ('user = "root"; ', "", True),
        ("", 'owner = "kah"; group = "kah";', True),  # (root reads any file: truxnell)
    ],
)
def test_a_restic_backups_password_file_is_held_to_the_backups_user(
    tmp_git_repo: Path, user: str, fields: str, passes: bool
) -> None:
    """helper-121: restic's passwordFile, read by restic running as the backup's user
    (User = backup.user), passed check root's and 0400; migrate knew the owner."""
    results = _check(tmp_git_repo, _restic(user, fields))
    assert [ok for ok, _m, _f in results] == [passes], results
    if not passes:
        ((_ok, message, fix),) = results
        assert "services.restic.backups.b2.passwordFile" in message
        assert "config.services.restic.backups.b2.user" in message
        if not fields:
            assert fix.startswith("add owner = config.services.restic.backups.b2.user; to ")
            added = fix.split(" to ")[0].removeprefix("add ")
            assert [ok for ok, _m, _f in _check(tmp_git_repo, _restic(user, added))] == [True]


@pytest.mark.parametrize(("fields", "passes"), [("", False), ('owner = "postgres";', True)])
def test_a_postgresql_script_reading_a_secret_is_held_to_the_postgres_user(
    tmp_git_repo: Path, fields: str, passes: bool
) -> None:
    """helper-124: `ALTER USER … PASSWORD '$(< …)'` in postgresql's postStart runs as the
    module's User = "postgres"; migrate wrote no owner and check did not judge it."""
    module = (
        "{ config, ... }: { systemd.services.postgresql.postStart = ''\n"
        "  $PSQL -tAc \"ALTER USER app WITH PASSWORD '$(< "
        '${config.sops.secrets."pg/app".path})\'";\n'
        f"''; sops.secrets.\"pg/app\" = {{ sopsFile = ./s.yaml; {fields} }}; }}"
    )
    results = _check(tmp_git_repo, module)
    assert [ok for ok, _m, _f in results] == [passes], results
    if not passes:
        ((_ok, message, fix),) = results
        assert "systemd.services.postgresql.postStart" in message
        assert fix.startswith('add owner = "postgres"; to sops.secrets."pg/app"')


@pytest.mark.parametrize(
    ("users", "fails"),
    [(("", ""), False), (('user = "a"; ', 'user = "a"; '), False), (('user = "a"; ', ""), True)],
)
def test_two_backups_of_one_user_read_one_file(
    tmp_git_repo: Path, users: tuple[str, str], fails: bool
) -> None:
    """truxnell/nix-config: two restic backups, both root's (the default), share one
    password file; they were told "read by two users" (two option names, one user)."""
    module = (
        "{ config, ... }: { services.restic.backups = { "
        + "".join(
            f'{b} = {{ {u}repository = "/r/{b}"; passwordFile = config.sops.secrets.pw.path; }}; '
            for b, u in zip(("one", "two"), users, strict=True)
        )
        + "}; sops.secrets.pw = { sopsFile = ./s.yaml; "
        + ('owner = "a"; ' if users[0] else "")
        + "}; }"
    )
    results = _check(tmp_git_repo, module)
    failed = [m for ok, m, _f in results if not ok]
    assert bool(failed) == fails, failed
    if fails:
        assert "is read by two users at run time" in failed[0]


def test_a_group_the_readers_user_is_put_in_may_read(tmp_git_repo: Path) -> None:
    """misterio/nix-config: mysql's postStart reads minecraft's env file through
    users.users.mysql.extraGroups = [ "minecraft" ] and group/mode 0440."""
    module = (
        "{ config, ... }: { systemd.services.mysql.postStart = ''\n"
        "  source ${config.sops.secrets.mc.path}\n''; "
        'sops.secrets.mc = { sopsFile = ./s.yaml; owner = "minecraft"; group = "minecraft"; '
        'mode = "0440"; }; EXTRA}'
    )
    unverified = _check(tmp_git_repo, module.replace("EXTRA", ""))
    assert [ok for ok, _m, _f in unverified] == [False]
    joined = module.replace("EXTRA", 'users.users.mysql.extraGroups = [ "minecraft" ]; ')
    assert [ok for ok, _m, _f in _check(tmp_git_repo, joined)] == [True]


@pytest.mark.parametrize(
    ("unit", "fields", "verdict"),
    [
        ('User = "ddns";', 'owner = "ddns";', "ok"),
        ('User = "nobody";', 'owner = "ddns";', 'set owner = "nobody";'),
        ('User = "ddns";', "", 'add owner = "ddns";'),
        ("", 'owner = "ddns";', "root"),  # (no User=: root runs it, and reads any file)
        ('User = "root";', "", "root"),
        ("DynamicUser = true;", "", "dynamic"),  # (helper-130: LoadCredential, not owner)
        ("User = cfg.user;", "", "not judged"),
    ],
)
def test_a_units_script_is_held_to_the_units_user(
    tmp_git_repo: Path, unit: str, fields: str, verdict: str
) -> None:
    """helper-126: migrate owns a script's secret by the unit's User=; a User= changed
    since (or an owner edited since) passed as 'not judged'."""
    module = (
        "{ config, ... }: { systemd.services.ddns = {\n"
        f'  serviceConfig = {{ Type = "oneshot"; {unit} }};\n'
        "  script = ''\n    curl -H \"Authorization: Bearer $(< "
        '${config.sops.secrets."ddns/token".path})" https://api.invalid/\n  \'\';\n};\n'
        f'sops.secrets."ddns/token" = {{ sopsFile = ./s.yaml; {fields} }}; }}'
    )
    ((ok, message, fix),) = [r for r in _check(tmp_git_repo, module) if "warning" not in r[1]]
    if verdict == "ok":
        assert ok and message.startswith("1 secret file(s) handed to options whose reader is"), (
            message
        )
    elif verdict == "root":
        assert ok and "not judged" not in message, message  # (root reads any file)
    elif verdict == "not judged":
        assert ok and "1 other reference(s)" in message and "not judged" in message, message
    elif verdict == "dynamic":
        assert not ok and "the unit sets DynamicUser = true" in message, message
        assert "serviceConfig.LoadCredential" in fix and "$CREDENTIALS_DIRECTORY/ddns" in fix
    else:
        assert not ok and "systemd.services.ddns.script" in message
        assert fix.startswith(f"{verdict} to" if verdict.startswith("add") else f"{verdict} in")


@pytest.mark.parametrize(
    ("user", "fields", "passes"),
    [
        ("", "", True),  # (root runs the job: any owner)
        ('user = "backup";', 'owner = "backup";', True),
        ('user = "backup";', "", False),
    ],
)
def test_a_borg_pass_command_file_is_held_to_the_jobs_user(
    tmp_git_repo: Path, user: str, fields: str, passes: bool
) -> None:
    """helper-126: `passCommand = "cat ${…path}"` was counted "not judged"; borg runs it
    as the job's user (root unless `user` says)."""
    module = (
        "{ config, ... }: { services.borgbackup.jobs.box = { "
        f'{user} repo = "r"; encryption.mode = "repokey"; encryption.passCommand = '
        '"cat ${config.sops.secrets."borg/pw".path}"; };\n'
        f'sops.secrets."borg/pw" = {{ sopsFile = ./s.yaml; {fields} }}; }}'
    )
    results = [r for r in _check(tmp_git_repo, module) if "warning" not in r[1]]
    assert [ok for ok, _m, _f in results] == [passes], results
    if passes:
        assert "not judged" not in results[0][1]
    else:
        assert results[0][2].startswith("add owner = config.services.borgbackup.jobs.box.user;")
