"""Every refusal states the true reason and a manual route that works: the exact
``secretkit set`` command per host file, the ``sops.secrets`` declaration with the
owner the reader needs, and (for a value that is not a secret) the allowlist line.
No step sends the user back to ``migrate``.  One test runs the suggested command."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from secretkit.plan.decide import Accepted, Refusal, decide
from secretkit.sensitive import Sensitive
from tests.support import fake
from tests.support.nixfind import fill, plan_module

MODULE = "hosts/host1/default.nix"

CASES = {
    "script-dynamic-user": (
        b"{ ... }: { systemd.services.x = "
        b'{ serviceConfig.DynamicUser = true; script = "run --password=@S@"; }; }\n',
        "the unit sets serviceConfig.DynamicUser",
    ),
    "script-user-expression": (
        b"{ config, ... }: { systemd.services.x = { serviceConfig.User = "
        b'config.services.foo.user; script = "run --password=@S@"; }; }\n',
        "the unit's User is not a plain string",
    ),
    "script-confined": (
        b"{ ... }: { systemd.services.x = "
        b'{ confinement.enable = true; script = "run --password=@S@"; }; }\n',
        "the unit is confined",
    ),
    "nix-extra-options": (
        b'{ ... }: { nix.extraOptions = "access-tokens = github.com=@S@\\n"; }\n',
        "a line of the nix.conf text in nix.extraOptions",
    ),
    "script-heredoc": (
        b'{ ... }: { systemd.services.x.script = "cat > /etc/x <<EOF\\npw=@S@\\nEOF\\n"; }\n',
        "here-document",
    ),
    "script-backquotes": (
        b'{ ... }: { systemd.services.x.script = "v=`echo @S@`"; }\n',
        "backquotes",
    ),
    "unknown-option": (
        b'{ ... }: { services.foo.apiKey = "@S@"; }\n',
        "no file-based option or template route is known for services.foo.apiKey",
    ),
    "partial": (
        b'{ ... }: { services.k3s.token = "example-@S@"; }\n',
        "the secret is only part of the string",
    ),
    "not-echo": (
        b'{ ... }: { services.borgbackup.jobs.x.encryption.passCommand = "printf %s @S@"; }\n',
        "passCommand is not a plain `echo <passphrase>`",
    ),
    "htpasswd-user": (
        b'{ ... }: { services.nginx.virtualHosts."a".basicAuth = { "a b" = "@S@"; }; }\n',
        "the user name cannot be written into an htpasswd line",
    ),
    "both-set": (
        b'{ ... }: { services.k3s = { token = "@S@"; tokenFile = "/x"; }; }\n',
        "tokenFile is set as well",
    ),
    "hass-config-dir": (
        b"{ ... }: { services.home-assistant = "
        b'{ configDir = "/srv"; config.x.password = "@S@"; }; }\n',
        "configDir is set: secrets.yaml would be looked for elsewhere",
    ),
    "let": (
        # (also used inside a string: not only as option values, so no route through them)
        b'{ ... }: let t = "@S@"; in { services.k3s.token = t; services.x.y = "${t}"; }\n',
        "the string is bound to `t` in a `let`",
    ),
    "function-argument": (
        b'{ lib, ... }: { services.k3s.token = lib.mkForce (lib.trim "@S@"); }\n',
        "the string is an argument of `lib.trim`",
    ),
    "operand": (
        b'{ ... }: { services.k3s.token = "@S@" + "x"; }\n',
        "the string is an operand of `+`",
    ),
    "forgejo-generated": (
        b'{ ... }: { services.forgejo.settings.security.SECRET_KEY = "@S@"; }\n',
        "the module itself sets services.forgejo.secrets.security.SECRET_KEY",
    ),
    "global-variable": (
        b'{ ... }: { environment.variables.API_TOKEN = "@S@"; }\n',
        "environment.variables.API_TOKEN is exported to every user's shell",
    ),
    "quoted-name": (
        b'{ ... }: { programs.git.config.url."https://u:@S@@git.lan/".insteadOf = "x"; }\n',
        "the secret is in a quoted attribute name, not a value",
    ),
    "computed-name": (
        b'{ config, ... }: { services.${config.x.svc}.password = "@S@"; }\n',
        "the attribute name services.${config.x.svc}.password is computed",
    ),
    # forms the scanner reads (secretkit.scan.nix_owner) that migrate cannot rewrite
    "deployment-key-text": (
        b'{ ... }: { deployment.keys."db".text = "@S@"; }\n',
        "no file-based option or template route is known for deployment.keys.db.text",
    ),
    "wrapper-with-argument": (
        b'{ lib, config, ... }: { services.k3s.token = lib.mkIf config.x.on "@S@"; }\n',
        "the string is an argument of `lib.mkIf`",
    ),
    "url-interpolated-host": (
        b'{ ... }: { services.foo.url = "postgres://a:@S@@${h}/x"; }\n',
        "no file-based option or template route is known for services.foo.url",
    ),
    "command-list": (
        b'{ ... }: { accounts.email.accounts.w.passwordCommand = [ "echo" "@S@" ]; }\n',
        "no file-based option or template route is known for accounts.email.accounts.w",
    ),
    # (one VAR=value string moves: systemd-environment-list; two in one are by hand)
    "environment-string": (
        b'{ ... }: { systemd.services.x.serviceConfig.Environment = "A=1 TOKEN=@S@"; }\n',
        "the string is not one VAR=<the secret> assignment",
    ),
    "argument-default": (
        b'{ smtpPassword ? "@S@", ... }: { }\n',
        "the string is a default argument of a function",
    ),
}


def test_an_option_default_is_refused_not_rewritten() -> None:
    # (an options module's config is not the attrset migrate edits: refused, no route yet)
    src = b'{ lib, ... }: { options.x.token = lib.mkOption { default = "@S@"; }; }\n'
    source, finding = _finding(src)
    plan = plan_module(source, MODULE, findings=[finding])
    assert plan.moves == [] and plan.nix == {}
    [refused] = plan.refused
    assert "the module's config is not an attrset" in refused.reason
    assert finding.secret.reveal() not in refused.message()


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    start: int
    end: int
    secret: Sensitive[str]
    fingerprint: str = "sk2:" + "0" * 32


def _finding(src: bytes) -> tuple[bytes, Finding]:
    source, findings, _ = fill(src, MODULE)
    [f] = findings
    return source, Finding(f.path, f.line, f.start, f.end, f.secret)


@pytest.mark.parametrize("case", sorted(CASES))
def test_refusal_names_the_true_reason_and_a_route(case: str) -> None:
    src, reason = CASES[case]
    source, finding = _finding(src)
    plan = plan_module(source, MODULE, findings=[finding])
    assert plan.moves == [] and plan.nix == {}
    [refused] = plan.refused
    assert reason in refused.reason
    assert "inside a function call or let" not in refused.reason
    steps = refused.route
    assert steps[0].startswith("secretkit set secrets/host1.yaml '[\"")
    assert any('sops.secrets."' in s and "sopsFile = ../../secrets/host1.yaml;" in s for s in steps)
    assert any(f"`{finding.fingerprint}  # {MODULE}:1`" in s for s in steps)
    for step in steps:
        assert "migrate" not in step
        assert finding.secret.reveal() not in step
    message = refused.message()
    assert message.startswith(f"{MODULE}:1: cannot migrate safely: ")
    assert finding.secret.reveal() not in message


def test_route_carries_the_owner_the_reader_needs() -> None:
    source, finding = _finding(
        b'{ ... }: { services.prometheus.scrapeConfigs = [ { bearer_token = "example-@S@"; } ]; }\n'
    )
    [refused] = plan_module(source, MODULE, findings=[finding]).refused
    assert any('owner = "prometheus";' in s for s in refused.route)


def test_a_route_without_a_known_reader_says_whose_the_file_is() -> None:
    """For an option nothing is known of, the file's owner cannot be written for the
    user: the step says the file is root's unless they name the program's user."""
    source, finding = _finding(b'{ ... }: { some.random.password = "@S@"; }\n')
    [refused] = plan_module(source, MODULE, findings=[finding]).refused
    (last,) = [s for s in refused.route if s.startswith("and drop the literal")]
    assert "root's (mode 0400) unless the declaration says owner = \"<the user" in last
    # (read literally, "instead of the literal" put the path where the secret was: a wifi
    # psk became the path's text, and check said all resolve)
    assert "never as the option's value (it would hold the path, not the secret)" in last


def test_in_a_module_with_a_dynamic_user_the_way_is_a_credential_not_an_owner() -> None:
    """A token in a script a DynamicUser unit runs: "owner = <the user the program runs
    as>" cannot be written (the user exists only while the unit runs); a stranger found
    LoadCredential instead, which the step now says (and only there)."""
    unit = (
        b'{ pkgs, ... }: let sync = pkgs.writeShellScript "sync" "curl -H @S@"; in {'
        b' systemd.services.sync.serviceConfig = { ExecStart = "${sync}";'
        b" DynamicUser = true; }; }\n"
    )
    source, finding = _finding(unit)
    [refused] = plan_module(source, MODULE, findings=[finding]).refused
    (step,) = [s for s in refused.route if s.startswith("and drop the literal")]
    assert 'LoadCredential = [ "secret:${config.sops.secrets."' in step
    assert "$CREDENTIALS_DIRECTORY/secret" in step
    plain = unit.replace(b"DynamicUser = true", b'User = "sync"')
    source, finding = _finding(plain)
    [refused] = plan_module(source, MODULE, findings=[finding]).refused
    assert not any("LoadCredential" in s for s in refused.route)


@pytest.mark.parametrize(
    "option",
    ["services.restic.backups.nas.backupCleanupCommand", "services.custom.tokencmd"],
)
def test_a_value_in_a_shell_command_option_is_read_by_the_command(option: str) -> None:
    """No *File option and no template: the command itself reads the file where the
    value stood (`$(cat …)`, any shell), the file owned by whoever runs it."""
    source, finding = _finding(
        b"{ ... }: { " + option.encode() + b' = "curl https://x/@S@/fail"; }\n'
    )
    [refused] = plan_module(source, MODULE, findings=[finding]).refused
    (last,) = [s for s in refused.route if s.startswith("and ")]
    assert last.startswith('and write: $(cat ${config.sops.secrets."')
    assert '".path}) where the value stands in the command on line 1' in last
    assert 'owner = "<the user the command runs as>"' in last


@pytest.mark.parametrize(
    "value",
    [
        # (the configuration as an attribute set, and as a module function of its own)
        b"containers.wiki.config = { services.mediawiki.passwordFile = "
        b'pkgs.writeText "pw" "@S@"; };',
        b"containers.wiki = { autoStart = true; config = { pkgs, ... }: { "
        b'services.mediawiki.passwordFile = pkgs.writeText "pw" "@S@"; }; };',
    ],
)
def test_a_secret_in_a_nixos_containers_configuration_is_not_moved_to_the_hosts(
    value: bytes,
) -> None:
    """helper-123: migrate wrote the host's config.sops.secrets path into
    containers.wiki.config (the container sees no /run/secrets of the host), and a
    function-valued configuration was refused as "a default argument of a function"."""
    source, finding = _finding(b"{ pkgs, ... }: { " + value + b" }\n")
    plan = plan_module(source, MODULE, findings=[finding])
    assert plan.moves == []
    [refused] = plan.refused
    assert refused.reason.startswith(
        "the string is in a NixOS container's configuration (containers.wiki.config)"
    )
    (mount,) = [s for s in refused.route if s.startswith("and mount it in the container: ")]
    assert 'containers.wiki.bindMounts."/run/secrets/' in mount
    assert "hostPath = config.sops.secrets." in mount and "isReadOnly = true; };" in mount


def test_a_value_a_json_template_cannot_hold_as_it_is_is_stored_escaped() -> None:
    """helper-121: the steps for a transmission password holding a quote stored it raw
    into a JSON template, and the rendered credentials file was no JSON (jq failed)."""
    value = fake.password("json") + '"' + fake.password("json2") + "\\"  # (made here)
    written = value.replace("\\", "\\\\").replace('"', '\\"').encode()
    source = b'{ ... }: { services.transmission.settings.rpc-password = "' + written + b'"; }\n'
    start = source.index(written)
    finding = Finding(MODULE, 1, start, start + len(written), Sensitive(value))
    [refused] = plan_module(source, MODULE, findings=[finding]).refused
    assert refused.reason == "the value cannot be written into a JSON string as it is"
    (step,) = [s for s in refused.route if s.startswith("and replace the literal")]
    assert "credentialsFile (JSON template)" in step
    assert 'store the value JSON-escaped (every " as \\", every \\ as \\\\' in step


def test_a_value_in_an_oci_containers_cmd_is_no_shell_command() -> None:
    """helper-123: the steps said $(cat …) in cmd, which oci-containers shell-escapes
    (`map escapeShellArg container.cmd`): the container got the text."""
    source, finding = _finding(
        b'{ ... }: { virtualisation.oci-containers.containers.rest = { image = "r";'
        b' cmd = [ "--password" "@S@" ]; }; }\n'
    )
    [refused] = plan_module(source, MODULE, findings=[finding]).refused
    (last,) = [s for s in refused.route if s.startswith("and ")]
    assert last.startswith("and drop the literal on line 1 from cmd: oci-containers hands cmd")
    assert "$(cat ${" not in last
    assert "environmentFiles = [ config.sops.templates." in last
    assert ':/run/secret:ro" ]; and write /run/secret in its place in cmd' in last


def test_a_route_to_an_environment_file_writes_a_template_not_the_bare_value() -> None:
    """environmentFiles takes VAR=value lines: the bare value's .path there would start
    the container without the variable (the route said so before)."""
    source, finding = _finding(
        b"{ ... }: { virtualisation.oci-containers.containers.app = { "
        b'environment.ADMIN_PASSWORD = "@S@"; environmentFiles = [ "/etc/app.env" ]; }; }\n'
    )
    [refused] = plan_module(source, MODULE, findings=[finding]).refused
    assert "environmentFiles is already set" in refused.reason
    (last,) = [s for s in refused.route if s.startswith("and ")]
    assert "sops.templates" in last and "<VARIABLE>=${config.sops.placeholder." in last
    assert "next to the files it already lists" in last
    assert ".path'" not in last and 'secrets."' not in last.split("placeholder")[0]


@pytest.mark.parametrize("case", ["script-dynamic-user", "script-confined"])
def test_a_unit_that_cannot_open_run_secrets_gets_a_credential_route(case: str) -> None:
    """Not `$(< /run/secrets/…)` (the reason it was refused): systemd hands the unit a
    copy through LoadCredential, which a DynamicUser or confined unit can read."""
    source, finding = _finding(CASES[case][0])
    [refused] = plan_module(source, MODULE, findings=[finding]).refused
    (last,) = [s for s in refused.route if s.startswith("and ")]
    assert 'systemd.services.x.serviceConfig.LoadCredential = [ "password:${' in last
    assert '$(< "$CREDENTIALS_DIRECTORY/password")' in last
    assert "$(< ${" not in last


def test_route_for_a_password_declares_needed_for_users() -> None:
    source, finding = _finding(
        b'{ ... }: { users.users.bob = { initialPassword = "@S@"; hashedPasswordFile = "/x"; }; }\n'
    )
    [refused] = plan_module(source, MODULE, findings=[finding]).refused
    assert "hashedPasswordFile is set as well" in refused.reason
    assert any("neededForUsers = true;" in s for s in refused.route)


def test_one_step_per_host_file() -> None:
    source, finding = _finding(b'{ ... }: { services.foo.apiKey = "@S@"; }\n')
    [refused] = plan_module(source, MODULE, hosts=("a", "b"), findings=[finding]).refused
    assert [s.split("'")[0] for s in refused.route[:2]] == [
        "secretkit set secrets/a.yaml ",
        "secretkit set secrets/b.yaml ",
    ]
    assert any('+ "/${config.networking.hostName}.yaml"' in s for s in refused.route)


def test_decide_accepts_or_refuses_like_migrate() -> None:
    source, finding = _finding(b'{ ... }: { services.k3s.token = "@S@"; }\n')
    assert decide(source, finding, ["host1"]) == Accepted("k3s-token", "k3s/token", "tokenFile")
    source, finding = _finding(CASES["let"][0])
    decision = decide(source, finding, ["host1"])
    assert isinstance(decision, Refusal)
    assert "bound to `t` in a `let`" in decision.reason
    assert decision.route and "migrate" not in decision.message()
    assert isinstance(decide(source, finding, []), Refusal)


def test_the_suggested_set_command_works(tmp_path: Path) -> None:
    from secretkit.sops import operations
    from secretkit.sops.identities import load_identities
    from tests.sops.keys_support import age_key, age_rule_config, run_cli

    source, finding = _finding(CASES["unknown-option"][0])
    [refused] = plan_module(source, MODULE, findings=[finding]).refused
    command = shlex.split(refused.route[0].split("  (")[0])
    assert command[:2] == ["secretkit", "set"]
    key = age_key()
    age_rule_config(tmp_path, key.public, path_regex=r"^secrets/host1\.yaml$")
    keyfile = key.write(tmp_path / "keys" / "admin.txt")
    env = {"SOPS_AGE_KEY_FILE": str(keyfile)}
    value = "-".join(
        ("example", "value", "on", "stdin")
    )  # built at run time: the project scans itself
    result = run_cli(["-C", str(tmp_path), *command[1:]], input=value.encode() + b"\n", env=env)
    assert result.code == 0, result.err
    import os

    os.environ["SOPS_AGE_KEY_FILE"] = str(keyfile)
    try:
        plain = operations.decrypt_bytes(
            (tmp_path / "secrets" / "host1.yaml").read_bytes(), "yaml", load_identities()
        )
    finally:
        del os.environ["SOPS_AGE_KEY_FILE"]
    assert plain.to_python() == {"services": {"foo": {"apikey": value}}}


def test_a_writetext_file_wrapped_in_tostring_is_migrated_not_refused() -> None:
    """``passwordFile = toString (pkgs.writeText "…" "<pw>")`` is the same file as the
    bare call: the option gets the sops secret's path (it was refused as "an argument
    of `toString`")."""
    src = (
        b"{ pkgs, ... }: { services.restic.backups.home.passwordFile ="
        b' toString (pkgs.writeText "restic-password" "@S@"); }\n'
    )
    source, finding = _finding(src)
    plan = plan_module(source, MODULE, findings=[finding])
    assert plan.refused == []
    [(_old, edited)] = plan.nix.values()
    assert b"toString" not in edited and b"writeText" not in edited
    assert b'passwordFile = config.sops.secrets."restic/home/password".path;' in edited


def test_two_values_in_one_literal_get_two_names() -> None:
    """A script holding a Pushover token and user key: each refusal's route stores its
    value under its own key (one key for both would keep only the second value)."""
    src = (  # (a DynamicUser unit: its script cannot read a secret file, so refused)
        b"{ pkgs, ... }: { systemd.services.n.serviceConfig.DynamicUser = true;\n"
        b"systemd.services.n.script = ''\n"
        b'  curl -F "token=@A@" -F "user=@B@" https://api.pushover.net/1/messages.json\n'
        b"''; }\n"
    )
    source, findings, _ = fill(src, MODULE)
    assert len(findings) == 2
    plan = plan_module(
        source,
        MODULE,
        findings=[Finding(f.path, f.line, f.start, f.end, f.secret) for f in findings],
    )
    sets = [next(s for s in r.route if s.startswith("secretkit set ")) for r in plan.refused]
    assert len(sets) == 2 and len(set(sets)) == 2, sets
    declared = [next(s for s in r.route if 'sops.secrets."' in s) for r in plan.refused]
    assert len(set(declared)) == 2


def test_a_builders_text_is_replaced_by_the_path_where_the_call_was() -> None:
    # "instead of the literal" would put the path into the text writeText writes: the
    # program would read "/run/secrets/…" as the user name
    src = (
        b"{ pkgs, ... }: { services.openvpn.servers.a.config = "
        b"''auth-user-pass ${pkgs.writeText \"auth\" \"jdoe\\n@S@\"}''; }\n"
    )
    source, finding = _finding(src)
    plan = plan_module(source, MODULE, findings=[finding])
    [refused] = plan.refused
    assert refused.reason == "the string is interpolated into another string"
    assert any(
        "path in place of the `pkgs.writeText …` call on line 1" in step for step in refused.route
    ), refused.route
    assert not any("instead of the literal" in step for step in refused.route)


def test_hook_and_check_advice_carry_the_routes_nix_with_their_own_placeholder() -> None:
    """plan.advice gives hook and check the Nix the route writes, the secret's name
    left as "<name>" like the rest of their fix (not the stand-in plan's own)."""
    from secretkit.gate.finding_fix import finding_fix
    from secretkit.plan.advice import migrate_refusal

    source, finding = _finding(CASES["script-dynamic-user"][0])
    refusal = migrate_refusal(MODULE, source, finding)
    assert refusal is not None and refusal.manual is not None
    assert 'LoadCredential = [ "password:${config.sops.secrets."<name>".path}" ]' in refusal.manual
    fix = finding_fix(MODULE, None, refusal.reason, refusal.builder, manual=refusal.manual)
    assert f"and write: {refusal.manual}" in fix
    assert "point the option at its .path" not in fix


def test_a_file_nix_reads_is_not_told_to_be_encrypted_in_place() -> None:
    """A JSON or TOML file that Nix reads while it evaluates, or a file whose path is
    handed to a service: encrypted in place, that code would get the ciphertext."""
    from secretkit.plan.refusals import other_file_note

    sources = {
        "hosts/a/immich.nix": b"{ lib, ... }: {\n  settings = lib.importJSON ./immich.json;\n}\n",
        "hosts/a/restic.nix": b'{ ... }: { services.restic.backups.x.passwordFile = "${./pw}"; }\n',
    }
    at_eval = other_file_note("hosts/a/immich.json", sources)
    assert "hosts/a/immich.nix:2 reads it when Nix evaluates" in at_eval
    assert 'config.sops.placeholder."<name>" in a sops template' in at_eval
    at_run = other_file_note("hosts/a/pw", sources)
    assert "hosts/a/restic.nix:1 hands its path to the configuration" in at_run
    assert "`secretkit set secrets/<host>.yaml '[\"<name>\"]' < hosts/a/pw`" in at_run
    assert "root, the default, where systemd does" in at_run
    assert at_run.endswith("put its .path in place of that path and git rm hosts/a/pw")
    # check names the file of the host of the module that reads it (a stranger's
    # restic.env fix said secrets/<host>.yaml beside hosts/nas/default.nix)
    from secretkit.plan.refusals import nix_reader_route

    route = nix_reader_route("hosts/a/pw", sources, {"hosts/a/restic.nix": "secrets/a.yaml"}.get)
    assert route is not None and "`secretkit set secrets/a.yaml '[" in route[1]
    by_hand = other_file_note("docker/.env", sources, 2)
    assert by_hand.startswith("docker/.env: not a Nix file; move its 2 secret(s) by hand: ")
    assert "`secretkit encrypt -i docker/.env`" in by_hand and "`secretkit set`" in by_hand


def test_no_host_is_said_as_a_fact_only_when_every_import_was_followed(
    tmp_path: Path,
) -> None:
    """ajaxbits/config imports its components through a readDir over a directory that
    discovery does not follow: "no host imports this file" was wrong there."""
    from secretkit.nix.hosts import discover
    from secretkit.plan.advice import host_refusal
    from tests.keys.layouts import write

    flake = (
        "{ outputs = { nixpkgs, ... }: { nixosConfigurations.h = nixpkgs.lib.nixosSystem "
        "{ modules = [ ./h.nix ]; }; }; }\n"
    )
    write(tmp_path / "plain", {"flake.nix": flake, "h.nix": "{ }\n", "stray.nix": "{ }\n"})
    assert host_refusal(discover(tmp_path / "plain"), "stray.nix") == (
        "no host configuration imports this file"
    )
    hidden = (
        '{ lib, ... }: { imports = lib.mapAttrsToList (n: _: ./c + "/${n}") '
        "(builtins.readDir ./c); }\n"
    )
    write(tmp_path / "hidden", {"flake.nix": flake, "h.nix": hidden, "c/x/default.nix": "{ }\n"})
    reason = host_refusal(discover(tmp_path / "hidden"), "c/x/default.nix")
    assert reason is not None and reason.startswith(
        "no host configuration imports this file as far as secretkit can follow"
    )


def test_a_route_in_a_module_without_config_says_to_add_it() -> None:
    """ajaxbits/config: the route named config.sops.secrets in a module whose arguments
    have no config; followed as written, Nix said `undefined variable 'config'`."""
    source, finding = _finding(b'{ lib, ... }: { services.foo.apiKey = "@S@"; }\n')
    [refused] = plan_module(source, MODULE, findings=[finding]).refused
    at = [i for i, s in enumerate(refused.route) if s.startswith("add config to the arguments")]
    declared = [i for i, s in enumerate(refused.route) if 'sops.secrets."' in s]
    assert at and declared and at[0] < declared[0]
    source, finding = _finding(b'{ config, ... }: { services.foo.apiKey = "@S@"; }\n')
    [refused] = plan_module(source, MODULE, findings=[finding]).refused
    assert not any("add config" in step for step in refused.route)


def test_the_password_route_stores_a_crypt_hash_the_password_opens(tmp_path: Path) -> None:
    """hashedPasswordFile reads a crypt hash: the route's first step, run as printed,
    stores the hash of the password typed (the value itself would lock the user out)."""
    import subprocess
    import sys

    from secretkit.nix.catalogue.users import UserPassword
    from secretkit.plan.refusals import manual_route
    from tests.conftest import need_tool
    from tests.support.smalllab import pristine_small_lab

    mkpasswd = need_tool("mkpasswd")
    lab = pristine_small_lab(tmp_path)
    steps = manual_route(
        module="hosts/alpha/default.nix", line=3, hosts=["alpha"],
        name="users/alice/hashed-password", sops_file=None, entry=UserPassword(),
        files=["secrets/alpha.yaml"], fingerprint=None,
    )  # fmt: skip
    command = steps[0].partition("  (")[0]
    assert command.startswith("mkpasswd -m sha-512 | secretkit set secrets/alpha.yaml")
    password = b"correct horse battery staple\n"
    secretkit = f"{shlex.quote(sys.executable)} -m secretkit"
    shell = ["bash", "-c", command.replace("secretkit", secretkit)]
    run = subprocess.run(shell, cwd=lab.repo, input=password, env=lab.env(), capture_output=True)
    assert run.returncode == 0, run.stderr
    got = lab.run("decrypt", "secrets/alpha.yaml", "--extract",
                  '["users"]["alice"]["hashed-password"]')  # fmt: skip
    stored = got.stdout.strip()
    assert stored.startswith(b"$6$"), got.stderr
    salt = stored.split(b"$")[2]
    again = subprocess.run([mkpasswd, "-m", "sha-512", "-S", salt.decode()], input=password,
                           capture_output=True, check=True)  # fmt: skip
    assert again.stdout.strip() == stored


def test_migrates_note_for_a_value_inside_an_archive_names_the_archive() -> None:
    """A stranger's homelab: migrate said `secretkit encrypt -i 'x.tar.gz!app/.env'`,
    a path no command can open."""
    from secretkit.plan.refusals import other_file_note

    note = other_file_note("backups/x.tar.gz!app/.env", {}, 1, "backups/x.tar.gz")
    assert note.startswith("backups/x.tar.gz!app/.env: inside backups/x.tar.gz;")
    assert "git rm --cached -- backups/x.tar.gz, then delete it or add it to .gitignore" in note
    assert "encrypt -i" not in note


def test_an_exported_variable_is_given_to_a_service_not_pointed_at_a_path() -> None:
    """kclejeune/system (a stranger's run): for `environment.variables.GITHUB_TOKEN`
    the fix said to point the option at the secret's .path (or a placeholder), which
    would export the path (or the placeholder's text), not the token."""
    from secretkit.plan.refusals import WRITE
    from tests.support.nixfind import fill, plan_module

    source, findings, _ = fill(
        b'{ config, ... }: { environment.variables.GITHUB_TOKEN = "@T@"; }\n', "box.nix"
    )
    plan = plan_module(source, "box.nix", hosts=("box",), findings=findings)
    (refused,) = plan.refused
    assert "is exported to every user's shell and session" in refused.reason
    (write,) = [step for step in refused.route if step.startswith(WRITE)]
    assert 'content = "GITHUB_TOKEN=${config.sops.placeholder."' in write
    assert "serviceConfig.EnvironmentFile = [ config.sops.templates" in write
    assert not any("through an option that reads a file" in step for step in refused.route)


def test_the_by_hand_way_for_a_file_no_host_imports_gives_a_file_option_not_the_path() -> None:
    # wimpysworld/nix-config: a hashedPassword in a file no host is seen to import; the
    # hint said to point "the option that reads it" at the secret's path, which for
    # hashedPassword would be the password (a path) itself
    from secretkit.nix.hosts.model import Note
    from secretkit.plan.advice import FILE_OPTION, unowned_hint

    assert "hashedPasswordFile for a hashedPassword" in FILE_OPTION
    unread = Note(Path("flake.nix"), 116, "built from a call of mkAllNixos", kind="host-set")
    for hint in (unowned_hint(["web"], []), unowned_hint([], [unread])):
        assert "point the option" not in hint
        assert hint.endswith(FILE_OPTION)


def test_a_committed_ssh_host_key_gets_a_new_key_not_a_sops_secret() -> None:
    """ "Store its content in secrets/media.yaml" for the host's own ssh key: sops-nix
    decrypts that file with it, so the host could never open it (a stranger's, where
    check's host-readable point said the right thing beside it)."""
    from secretkit.plan.refusals import nix_reader_route

    sources = {
        "hosts/media/configuration.nix": (
            b'{ ... }: {\n  environment.etc."ssh/ssh_host_ed25519_key".source =\n'
            b"    ./ssh/ssh_host_ed25519_key;\n}\n"
        )
    }
    route = nix_reader_route(
        "hosts/media/ssh/ssh_host_ed25519_key",
        sources,
        {"hosts/media/configuration.nix": "secrets/media.yaml"}.get,
    )
    assert route is not None
    kind, steps = route
    assert kind == "run"
    assert "secretkit set" not in steps
    assert "secretkit rotate host media --ssh-pubkey-file DIR/ssh_host_ed25519_key.pub" in steps
    assert "delete what hosts/media/configuration.nix:3 does with this file" in steps


def test_an_option_set_to_null_is_one_line_to_delete() -> None:
    """passwordFile = null; (the option's default, written out) made migrate say "is
    already set; merge by hand" (a stranger's): the refusal now says which line goes."""
    from tests.support.nixfind import fill, plan_module

    text = (
        b"{ config, ... }:\n{\n  services.paperless.passwordFile = null;\n"
        b'  services.paperless.settings.PAPERLESS_ADMIN_PASSWORD = "@PW@";\n}\n'
    )
    source, findings, _values = fill(text, "h.nix")
    plan = plan_module(source, "h.nix", findings=findings)
    (refused,) = plan.refused
    assert refused.reason == (
        "services.paperless.passwordFile = null is set in the module: delete that line, then "
        "run migrate again"
    )
    # followed: the line deleted, migrate moves it
    without = text.replace(b"  services.paperless.passwordFile = null;\n", b"")
    source, findings, _values = fill(without, "h.nix")
    assert plan_module(source, "h.nix", findings=findings).refused == []


def test_postfixs_inline_password_table_is_told_the_texthash_table() -> None:
    """helper-124: the generic steps pointed smtp_sasl_password_maps at a template's
    path, which postfix refuses (no table type)."""
    source, finding = _finding(
        b"{ ... }: { services.postfix.config.smtp_sasl_password_maps = "
        b'"inline:{ [smtp.example.org]:587=me@example.org:@S@ }"; }\n'
    )
    [refused] = plan_module(source, MODULE, findings=[finding]).refused
    assert refused.reason.endswith(
        "is postfix's password table, a file of its own: migrate moves no table"
    )
    (step,) = [s for s in refused.route if s.startswith("and drop the literal")]
    assert '"texthash:${config.sops.templates."postfix-sasl-passwd".path}"' in step
