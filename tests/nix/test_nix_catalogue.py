"""The option catalogue: every entry has golden before/after files, and each rewrite
parses with tree-sitter and with the real ``nix-instantiate --parse``.

``before.nix`` holds ``@NAME@`` placeholders that the test fills with fake
secrets; the filled spans are the findings.  ``after.nix`` is the exact
expected rewrite (no value in it).  Regenerate with SECRETKIT_UPDATE_GOLDEN=1
and review the diff.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from secretkit.nix.catalogue import CATALOGUE, lookup, match
from secretkit.nix.catalogue.password_hash import sha512_crypt
from tests.conftest import need_tool
from tests.support.nixfind import fill, plan_module

GOLDEN = Path(__file__).parent / "golden"
MODULE = "hosts/host1/default.nix"


def _golden(name: str) -> tuple[bytes, Path]:
    return (GOLDEN / name / "before.nix").read_bytes(), GOLDEN / name / "after.nix"


def migrated_golden(name: str, tmp_path: Path) -> Path:
    """The module migrate writes from golden ``name``'s before.nix (values filled in),
    as a file to import in a ``nix-instantiate --eval`` expression."""
    from tests.support.nixfind import fill, plan_module

    before, _ = _golden(name)
    source, findings, _ = fill(before, MODULE)
    module = tmp_path / "module.nix"
    module.write_bytes(plan_module(source, MODULE, findings=findings).nix[MODULE][1])
    return module


def template_restart_units(name: str, template: str, config: str, tmp_path: Path) -> object:
    """The ``restartUnits`` golden ``name``'s migrated module gives its template
    ``template`` when the host's configuration is ``config`` (Nix attrset text),
    evaluated by the real ``nix-instantiate --eval``."""
    from tests.support.nixeval import eval_json

    module = migrated_golden(name, tmp_path)
    expr = (
        f"let m = import {module} {{ config = {config}; }}; "
        f'in m.sops.templates."{template}".restartUnits'
    )
    return eval_json(expr, tmp_path / "state")


def _eval_json(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``nix-instantiate --eval --strict --json`` of ``tmp_path/eval.nix`` (the real one)."""
    nix = need_tool("nix-instantiate")
    return subprocess.run(
        [nix, "--eval", "--strict", "--json", str(tmp_path / "eval.nix")],
        capture_output=True,
        text=True,
        env=dict(os.environ, NIX_STATE_DIR=str(tmp_path / "state")),
    )


def test_every_entry_has_a_golden_pair() -> None:
    dirs = {p.name for p in GOLDEN.iterdir() if p.is_dir()} - {"refusals"}
    assert dirs == set(CATALOGUE)


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_golden_rewrite(key: str) -> None:
    before, after_path = _golden(key)
    source, findings, values = fill(before, MODULE)
    plan = plan_module(source, MODULE, findings=findings)
    assert plan.refused == []
    assert len(plan.moves) == len(findings)
    assert {m.entry for m in plan.moves} == {key}
    old, new = plan.nix[MODULE]
    assert old == source
    if os.environ.get("SECRETKIT_UPDATE_GOLDEN") == "1":
        after_path.write_bytes(new)
    assert new == after_path.read_bytes()
    for value in values.values():
        assert value.encode() not in new
    # every value is stored for the one host, under a name the module declares
    stored = plan.sops["host1"]
    assert len(stored) == len({m.name for m in plan.moves})
    for move in plan.moves:
        assert f'sops.secrets."{move.name}"'.encode() in new
        assert tuple(move.name.split("/")) in stored
        assert move.files == ("secrets/host1.yaml",)
    assert b"sopsFile = ../../secrets/host1.yaml;" in new


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_golden_after_parses_with_nix(key: str) -> None:
    nix = need_tool("nix-instantiate")
    _, after_path = _golden(key)
    proc = subprocess.run([nix, "--parse", str(after_path)], capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()


def test_user_password_stores_a_hash_never_the_clear_text() -> None:
    before, _ = _golden("user-password")
    source, findings, values = fill(before, MODULE)
    plan = plan_module(source, MODULE, findings=findings)
    stored = plan.sops["host1"]
    clear = stored[("users", "stian", "hashed-password")].reveal()
    assert clear != values["STIAN_PASSWORD"]
    assert clear.startswith("$6$")
    salt = clear.split("$")[2]
    assert sha512_crypt(values["STIAN_PASSWORD"], salt) == clear
    # a value that already is a hash is stored as it is
    assert stored[("users", "root", "hashed-password")].reveal() == values["ROOT_HASH"]
    for move in plan.moves:
        assert move.new_option == "hashedPasswordFile"


def test_passcommand_echo_stores_only_the_passphrase() -> None:
    before, _ = _golden("borgbackup-passphrase")
    source, findings, values = fill(before, MODULE)
    plan = plan_module(source, MODULE, findings=findings)
    stored = plan.sops["host1"]
    assert stored[("borg", "docs", "passphrase")].reveal() == values["DOCS_PASSPHRASE"]
    assert stored[("borg", "immich-backup", "passphrase")].reveal() == values["BORG_PASSPHRASE"]


def test_tailscale_flag_value_is_the_key_alone() -> None:
    before, _ = _golden("tailscale-authkey")
    source, findings, values = fill(before, MODULE)
    plan = plan_module(source, MODULE, findings=findings)
    assert plan.sops["host1"][("tailscale", "authkey")].reveal() == values["TS_AUTHKEY"]


def test_refusals_are_reasons_never_rewrites() -> None:
    before = (GOLDEN / "refusals" / "before.nix").read_bytes()
    source, findings, _ = fill(before, MODULE)
    plan = plan_module(source, MODULE, findings=findings)
    assert plan.moves == []
    assert plan.nix == {}
    reasons = sorted(r.reason for r in plan.refused)
    assert reasons == [
        "basicAuthFile is set as well",
        "configDir is set: secrets.yaml would be looked for elsewhere",
        "no file-based option or template route is known for services.foo.apiKey",
        "passCommand is not a plain `echo <passphrase>`",
        "the secret is only part of the string",
        "the user name cannot be written into an htpasswd line",
    ]
    for refused in plan.refused:
        assert refused.message().startswith(f"{MODULE}:")
        assert "cannot migrate safely: " in refused.message()


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("services.prometheus.alertmanager.configuration.receivers.[0].pushover_configs.[0].token",
         "alertmanager-receiver"),
        ("services.prometheus.scrapeConfigs.[1].authorization.credentials",
         "prometheus-credentials"),
        ("services.prometheus.scrapeConfigs.[1].authorization.type", None),
        ("services.borgbackup.jobs.x.encryption.passphrase", "borgbackup-passphrase"),
        ("services.grafana.settings.security.admin_password", "grafana-file-provider"),
        ("users.users.bob.password", "user-password"),
        ("users.users.bob.hashedPasswordFile", "write-text-file"),
        ("networking.wireless.networks.home.psk", "wireless-psk"),
        ("networking.wg-quick.interfaces.wg0.privateKey", "wireguard-keys"),
        ("services.tailscale.extraUpFlags.[2]", "tailscale-authkey"),
        ("services.k3s.token", "k3s-token"),
        ("services.syncthing.settings.gui.apikey", "syncthing-gui-apikey"),
        ("services.syncthing.settings.gui.apiKey", "syncthing-gui-apikey"),  # REST spelling
        ("environment.etc.foo.text", "environment-etc"),
        ("systemd.services.x.environment.TOKEN", "systemd-environment"),
        ("services.foo.token", None),
        ("services.redis.servers.main.requirePass", "redis-requirepass"),
        ("services.redis.requirePass", "redis-requirepass"),  # (renamed to servers."")
        ("services.redis.servers.main.masterAuth", None),  # (no file option)
    ],
)  # fmt: skip
def test_lookup_by_attribute_path(path: str, key: str | None) -> None:
    entry = lookup(path.split("."))
    assert (entry.key if entry else None) == key


def test_match_patterns() -> None:
    assert match("a.*.c", ["a", "b", "c"])
    assert not match("a.*.c", ["a", "[0]", "c"])
    assert match("a.[].c", ["a", "[3]", "c"])
    assert match("a.b|x.**", ["a", "x", "y", "z"])
    assert not match("a.b.**", ["a", "b"])
    assert not match("a.b", ["a", "b", "c"])


EVAL = """
let
  names = builtins.fromJSON (builtins.readFile ./names.json);
  templates = builtins.fromJSON (builtins.readFile ./templates.json);
  byName = f: xs: builtins.listToAttrs (map (n: { name = n; value = f n; }) xs);
  config = {
    networking.hostName = "host1";
    networking.wireless.interfaces = [ ];
    system.nixos.release = "25.05";  # (every NixOS has it; a route may ask for it)
    services.syncthing.user = "syncthing";
    services.nginx.user = "nginx";
    services.gitea.user = "gitea";
    services.mysql.user = "mysql";
    services.authelia.instances.main.user = "authelia-main";
    virtualisation.oci-containers.backend = "docker";
    sops.secrets = byName (n: { path = "/run/secrets/${n}"; }) names;
    sops.placeholder = byName (n: "<${n}>") names;
    sops.templates = byName (n: { path = "/run/secrets/rendered/${n}"; }) templates;
  };
  pkgs = { hello = "/nix/store/hello"; };
  clean = v:
    if builtins.isPath v then toString v
    else if builtins.isAttrs v then builtins.mapAttrs (_: clean) v
    else if builtins.isList v then map clean v
    else v;
in clean (import ./after.nix { inherit config pkgs; lib = { }; })
"""


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_golden_after_evaluates_to_run_secrets(key: str, tmp_path: Path) -> None:
    import json
    import re

    before, after_path = _golden(key)
    source, findings, values = fill(before, MODULE)
    plan = plan_module(source, MODULE, findings=findings)
    after = after_path.read_text()
    templates = re.findall(r'sops\.templates\."([^"]+)" =', after)
    (tmp_path / "names.json").write_text(json.dumps(sorted({m.name for m in plan.moves})))
    (tmp_path / "templates.json").write_text(json.dumps(templates))
    (tmp_path / "after.nix").write_text(after.replace("@WG_PUBLIC@", "public"))
    (tmp_path / "eval.nix").write_text(EVAL)
    proc = _eval_json(tmp_path)
    assert proc.returncode == 0, proc.stderr
    module = json.loads(proc.stdout)
    text = json.dumps(module)
    if key == "environment-etc":  # the files stay at their /etc paths, now from sops
        assert module["sops"]["secrets"]["etc/restic/password"]["path"] == "/etc/restic/password"
        assert "environment" not in module
        # and their readers: a file that had no mode (a store symlink, every user reads
        # it) stays readable; a mode given is kept
        assert module["sops"]["secrets"]["etc/restic/password"]["mode"] == "0444"
        assert module["sops"]["templates"]["app/config.ini"]["mode"] == "0440"
    elif key == "home-assistant-secret":  # Home Assistant reads <configDir>/secrets.yaml
        template = module["sops"]["templates"]["home-assistant-secrets.yaml"]
        assert template["path"] == "/var/lib/hass/secrets.yaml"
        ha = module["services"]["home-assistant"]["config"]
        assert ha["influxdb"]["password"] == "!secret influxdb_password"
        assert "influxdb_password: '<home-assistant/influxdb/password>'" in template["content"]
    elif key == "zigbee2mqtt-secret":  # zigbee2mqtt reads <dataDir>/secret.yaml
        template = module["sops"]["templates"]["zigbee2mqtt-secret.yaml"]
        assert template["path"] == "/var/lib/zigbee2mqtt/secret.yaml"
        assert template["owner"] == "zigbee2mqtt"
        mqtt = module["services"]["zigbee2mqtt"]["settings"]["mqtt"]
        assert mqtt["password"] == "!secret.yaml mqtt_password"
    else:
        assert "/run/secrets/" in text
    for value in values.values():
        assert value not in text
    for move in plan.moves:
        declared = module["sops"]["secrets"][move.name]
        assert declared["sopsFile"].endswith("/secrets/host1.yaml")
    _assert_owned_by_the_reader(key, module)


_STUB_USERS = {
    "config.services.nginx.user": "nginx",
    "config.services.gitea.user": "gitea",
    "config.services.syncthing.user": "syncthing",
    "config.services.mysql.user": "mysql",
    "config.services.authelia.instances.main.user": "authelia-main",
}


def _assert_owned_by_the_reader(key: str, module: dict[str, Any]) -> None:
    """The file the service opens belongs to the user of the process that opens it
    (root when systemd or a root process reads it); a secret that only feeds a
    template stays root-only; a password read during activation is neededForUsers."""
    from secretkit.plan.release import key as release_key

    reader = CATALOGUE[key].reader
    owner = _PER_SITE_OWNER.get(key, reader.owner)
    if reader.owner_until is not None and release_key("25.05") >= release_key(reader.owner_until):
        owner = None  # (EVAL's release: systemd hands the file over, root reads it)
    expected = _STUB_USERS.get(owner, owner.strip('"')) if owner is not None else None
    secrets = module["sops"]["secrets"]
    templates = module["sops"].get("templates", {})
    for declared in [*secrets.values(), *templates.values()]:
        if declared.get("owner") == "root":  # (a release-chosen owner: root is the default)
            del declared["owner"]
    for name, template in templates.items():
        if key == "sops-template-content":
            continue  # (the user's own template: its owner is the user's, kept as it was)
        assert template.get("owner") == expected, (key, name)
    job_users = set(re.findall(r'"user": "([^"]+)"', json.dumps(module.get("services", {}))))
    for name, declared in secrets.items():
        in_template = any(f"<{name}>" in t.get("content", "") for t in templates.values())
        if key in _JOB_USER and declared.get("owner") is not None:
            assert declared["owner"] in job_users, (key, name)  # the job runs as its `user`
        elif key == "systemd-script":  # the script runs as the unit's User (root unset)
            unit = module["systemd"]["services"][name.split("/")[0]]
            assert declared.get("owner") == unit.get("serviceConfig", {}).get("User"), name
        elif in_template:
            assert declared.get("owner") is None, (key, name)  # only sops-nix reads it
        else:
            assert declared.get("owner") == expected, (key, name)
        assert declared.get("neededForUsers", False) == (reader.kind == "activation")


_JOB_USER = {"borgbackup-passphrase", "restic-files", "restic-repository"}  # owner: `user`
# owner: the user of the instance the secret is set for (the golden's is `main`)
_PER_SITE_OWNER = {"authelia-secrets": "config.services.authelia.instances.main.user"}


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_scanner_findings_drive_the_same_rewrite(key: str) -> None:
    """With the real scanner's findings the plan is the golden one (or, where the
    scanner does not flag a literal, a subset of it: never a finding migrate misplaces)."""
    from secretkit.scan.one_file import scan_bytes

    before, after_path = _golden(key)
    source, expected, _ = fill(before, MODULE)
    found, skipped = scan_bytes(MODULE, source)
    assert skipped is None
    spans = {(f.start, f.end) for f in found}
    wanted = {(f.start, f.end) for f in expected}
    # a found span is a golden one, or the whole builder content holding one (the
    # scanner flags a file's text handed to a *File option as one secret), or the part
    # of one the route stores (the token of an access-tokens host=token entry)
    inside = {s for s in spans if any(a <= s[0] and s[1] <= b for a, b in wanted - {s})}
    assert all(
        span in wanted or span in inside or any(span[0] <= a and b <= span[1] for a, b in wanted)
        for span in spans
    )
    plan = plan_module(source, MODULE, findings=found)
    assert plan.refused == []
    if spans == wanted or (inside and len(inside) == len(wanted)):
        assert plan.nix[MODULE][1] == after_path.read_bytes()  # (a part: the same rewrite)


def test_registry_keys_and_descriptions() -> None:
    for key, entry in CATALOGUE.items():
        assert entry.key == key
        assert entry.description


def test_access_token_stores_the_token_without_the_host() -> None:
    before, _ = _golden("nix-access-tokens")
    source, findings, values = fill(before, MODULE)
    plan = plan_module(source, MODULE, findings=findings)
    stored = plan.sops["host1"][("nix", "access-tokens", "github.com")].reveal()
    assert values["GH_ENTRY"] == "github.com=" + stored


def test_rootless_podman_container_env_file_belongs_to_its_user() -> None:
    source, findings, _ = fill(
        b"{ ... }:\n{\n  virtualisation.oci-containers.containers.app = {\n"
        b'    image = "app:1";\n    podman.user = "apps";\n'
        b'    environment.API_TOKEN = "@APP_TOKEN@";\n  };\n}\n',
        MODULE,
    )
    plan = plan_module(source, MODULE, findings=findings)
    assert plan.refused == []
    new = plan.nix[MODULE][1].decode()
    template = new.split('sops.templates."app-container.env"', 1)[1]
    assert 'owner = "apps";' in template


def test_service_scripts_read_the_values_when_bash_runs_them(tmp_path: Path) -> None:
    """The rewritten scripts, evaluated by the real nix-instantiate and run by bash
    (``curl`` a function printing its arguments, the secret files in a temporary
    /run/secrets): every argument carries its value again, in double quotes, bare
    and inside single quotes."""
    import shutil

    bash = shutil.which("bash")
    assert bash is not None
    before, after_path = _golden("systemd-script")
    source, findings, values = fill(before, MODULE)
    plan = plan_module(source, MODULE, findings=findings)
    names = sorted({m.name for m in plan.moves})
    (tmp_path / "names.json").write_text(json.dumps(names))
    (tmp_path / "templates.json").write_text("[]")
    (tmp_path / "after.nix").write_text(after_path.read_text())
    (tmp_path / "eval.nix").write_text(EVAL)
    proc = _eval_json(tmp_path)
    assert proc.returncode == 0, proc.stderr
    services = json.loads(proc.stdout)["systemd"]["services"]
    secrets = tmp_path / "run-secrets"
    stored = plan.sops["host1"]  # what goes into the host's sops file, by key path
    by_name = {m.name: stored[tuple(m.name.split("/"))].reveal() for m in plan.moves}
    for name, value in by_name.items():
        (secrets / name).parent.mkdir(parents=True, exist_ok=True)
        (secrets / name).write_text(value)  # sops-nix writes the value as it is stored
    printed = []
    for script in (services["backup-notify"]["script"], services["nas-ping"]["preStart"]):
        text = script.replace("/run/secrets/", f"{secrets}/")
        run = subprocess.run(
            [bash, "-e", "-c", 'curl() { printf "%s\\n" "$@"; }\n' + text],
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, run.stderr
        printed += run.stdout.splitlines()
    assert f"token={values['PUSHOVER_TOKEN']}" in printed
    assert f"user={values['PUSHOVER_USER']}" in printed
    assert f"backup:{values['NAS_PASSWORD']}" in printed
    assert "message=backup failed on host1" in printed


def test_cifs_refusals_name_what_is_not_a_cifs_password_option() -> None:
    before = b"""{ ... }:
{
  fileSystems."/mnt/a" = {
    device = "nas:/a";
    fsType = "davfs";
    options = [ "password=@A_PASSWORD@" ];
  };
  fileSystems."/mnt/b" = {
    device = "//nas/b";
    fsType = "cifs";
    options = [ "credentials=/etc/smb" "password=@B_PASSWORD@" ];
  };
  fileSystems."/mnt/c" = {
    device = "//nas/c";
    fsType = "cifs";
    neededForBoot = true;
    options = [ "password=@C_PASSWORD@" ];
  };
}
"""
    source, findings, _ = fill(before, MODULE)
    plan = plan_module(source, MODULE, findings=findings)
    assert plan.moves == []
    assert sorted(r.reason for r in plan.refused) == [
        "credentials= is set as well",
        "fsType is 'davfs', not cifs: only mount.cifs reads a credentials= file",
        "neededForBoot is set: sops-nix decrypts after the first stage",
    ]


def test_a_binding_set_apart_by_blank_lines_leaves_one_blank_line() -> None:
    """A stranger's migrated module kept two blank lines where an
    environment.etc text stood between two blank lines; one is left now, and none is
    taken where the binding had no blank line after it."""
    from secretkit.nix import cst
    from secretkit.nix.catalogue.base import delete_node
    from secretkit.nix.edits import apply_edits

    def without(text: str, name: str) -> str:
        tree = cst.parse(text.encode())
        (value,) = [b.value for b in cst.bindings(tree) if b.attrpath == [name]]
        binding = value.parent
        assert binding is not None and binding.type == "binding"
        return apply_edits(text.encode(), [delete_node(tree, binding)]).decode()

    spaced = "{\n  a = 1;\n\n  x = ''\n    t\n  '';\n\n  b = 2;\n}\n"
    assert without(spaced, "x") == "{\n  a = 1;\n\n  b = 2;\n}\n"
    last = "{\n  a = 1;\n\n  x = 2;\n}\n"
    assert without(last, "x") == "{\n  a = 1;\n}\n"
    tight = "{\n  a = 1;\n\n  x = 2;\n  b = 2;\n}\n"
    assert without(tight, "x") == "{\n  a = 1;\n\n  b = 2;\n}\n"


def test_the_syncthing_key_note_retires_the_committed_key_by_rotating_it() -> None:
    """After migrate the committed key is STGUIAPIKEY (from sops) and config.xml's key,
    and Syncthing accepts either: a new GUI key alone leaves it working, so the note
    names the rotation first (rotate value's own warning then names the GUI step)."""
    before, _ = _golden("syncthing-gui-apikey")
    source, findings, _values = fill(before, MODULE)
    plan = plan_module(source, MODULE, findings=findings)
    (move,) = plan.moves
    notes = [note for note in plan.notes if "STGUIAPIKEY" in note]
    assert len(notes) == 1
    # (no generators.toml names it: the command says the kind, or rotate value exits 2)
    assert f"run `secretkit rotate value {move.name} --kind alnum --length 32`" in notes[0]
    assert "no longer works" not in notes[0]


def test_a_unit_a_timer_starts_is_not_restarted_by_its_secret() -> None:
    """A stranger's ``systemd.services.cf-ddns`` ran every ten minutes (``startAt``) and
    migrate declared ``restartUnits = [ "cf-ddns.service" ]``: a restart at deployment
    starts an inactive unit, one run more.  A unit a timer starts, like a ``oneshot``
    one, reads the new value at its next run; a long-running one is restarted."""
    before = b"""{ ... }:
{
  systemd.services.cf-ddns = {
    startAt = "*:0/10";
    script = ''
      curl -H "Authorization: Bearer @DDNS_TOKEN@" https://api.example.invalid/
    '';
  };
  systemd.services.backup-ping = {
    script = ''
      curl -u "backup:@PING_PASSWORD@" https://ping.example.invalid/
    '';
  };
  systemd.timers.backup-ping.timerConfig.OnCalendar = "daily";
  systemd.services.sync-job = {
    serviceConfig.Type = "oneshot";
    script = ''
      curl -H "X-Token: @SYNC_TOKEN@" https://sync.example.invalid/
    '';
  };
  systemd.services.relay = {
    script = ''
      exec relayd --token "@RELAY_TOKEN@"
    '';
  };
  systemd.services.poller = {
    startAt = "hourly";
    environment.POLLER_TOKEN = "@POLLER_TOKEN@";
  };
  systemd.services.daemon.environment.DAEMON_TOKEN = "@DAEMON_TOKEN@";
  # (units NixOS's backup modules make for their timers: helper-118)
  systemd.services.restic-backups-b2.environment.AWS_SECRET_ACCESS_KEY = "@B2_KEY@";
  systemd.services.borgbackup-job-home.environment.RSYNC_PASSWORD = "@BORG_PASSWORD@";
}
"""
    source, findings, _ = fill(before, MODULE)
    plan = plan_module(source, MODULE, findings=findings)
    assert plan.refused == []
    _old, new = plan.nix[MODULE]
    text = new.decode()
    restarts = re.findall(r"restartUnits = \[ ([^]]*) \];", text)
    assert sorted(restarts) == ['"daemon.service"', '"relay.service"']
    assert 'sops.templates."restic-backups-b2.env"' in text  # (both moved)
    assert 'sops.templates."borgbackup-job-home.env"' in text
    quiet_units = ("cf-ddns", "backup-ping", "sync-job", "poller")
    for quiet in (*quiet_units, "restic-backups-b2", "borgbackup-job-home"):
        assert f'"{quiet}.service"' not in text


# nixpkgs' merge of a systemd unit option since NixOS 24.05 (NixOS/nixpkgs#290946,
# nixos/lib/systemd-unit-options.nix `unitOption`): any list among the definitions
# makes them all lists; otherwise they must be equal (mergeEqualOption).
UNIT_OPTION_MERGE = """
defs:
  if builtins.any builtins.isList defs
  then builtins.concatMap (v: if builtins.isList v then v else [ v ]) defs
  else if builtins.all (v: v == builtins.head defs) defs then builtins.head defs
  else throw "conflicting definition values"
"""


def test_an_environment_file_adds_to_the_one_the_services_module_sets(tmp_path: Path) -> None:
    """nixpkgs' glance module sets ``serviceConfig.EnvironmentFile`` itself (a string,
    ``/dev/null`` by default): migrate's own string conflicted with it and the host
    no longer evaluated.  A list is merged with it, by nixpkgs' unit option merge."""
    before = b"""{ config, ... }:
{
  services.glance.enable = true;
  systemd.services.glance.environment.API_TOKEN = "@GLANCE_TOKEN@";
}
"""
    source, findings, _ = fill(before, MODULE)
    plan = plan_module(source, MODULE, findings=findings)
    assert plan.refused == []
    (tmp_path / "module.nix").write_bytes(plan.nix[MODULE][1])
    (tmp_path / "eval.nix").write_text(
        "let\n  merge = " + UNIT_OPTION_MERGE + ";\n"
        '  config = { sops.templates."glance.env".path = "/run/secrets/rendered/glance.env";\n'
        "             sops.placeholder = { }; };\n"
        "  module = import ./module.nix { inherit config; lib = { }; pkgs = { }; };\n"
        "  ours = module.systemd.services.glance.serviceConfig.EnvironmentFile;\n"
        'in merge [ "/dev/null" ours ]\n'
    )
    proc = _eval_json(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == ["/dev/null", "/run/secrets/rendered/glance.env"]


@pytest.mark.parametrize(("release", "owner"), [("24.11", "cloudflared"), ("25.05", "root")])
def test_cloudflared_credentials_are_owned_by_who_opens_them_on_each_release(
    release: str, owner: str, tmp_path: Path
) -> None:
    """Up to 24.11 the tunnel's unit runs as services.cloudflared.user, and cloudflared
    opens credentials-file itself; from 25.05 (DynamicUser, LoadCredential) systemd
    reads it and the user option is gone.  On a release secretkit does not know, the
    host's own release chooses, and 25.05's evaluation never reads the removed option
    (a stranger's 24.11 tunnel got a root-only file and could not start)."""
    _, after_path = _golden("cloudflared-credentials")
    (tmp_path / "after.nix").write_text(after_path.read_text())
    user = '  services.cloudflared.user = "cloudflared";\n' if release == "24.11" else ""
    (tmp_path / "eval.nix").write_text(
        "let config = {\n"
        f'  system.nixos.release = "{release}";\n{user}'
        '  sops.placeholder = { "cloudflared/tunnels/home/credentials" = "<c>"; };\n'
        "}; in (import ./after.nix { inherit config; pkgs = { }; lib = { }; })"
        '.sops.templates."cloudflared-tunnels-home-credentials".owner\n'
    )
    proc = _eval_json(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == owner


def test_a_password_inside_home_assistants_database_url_moves_with_the_url(
    tmp_path: Path,
) -> None:
    """A stranger's recorder.db_url held the database password inside the URL: refused
    as "only part of the string", though secrets.yaml holds whole values.  The whole URL
    now goes in the template, the placeholder where the password was."""
    before = b"""{ ... }:
{
  services.home-assistant.config.recorder.db_url = "postgresql://hass:@DB_PASSWORD@@db.lan/hass";
}
"""
    source, findings, values = fill(before, MODULE)
    plan = plan_module(source, MODULE, findings=findings)
    assert plan.refused == []
    new = plan.nix[MODULE][1].decode()
    assert values["DB_PASSWORD"] not in new
    assert 'recorder.db_url = "!secret recorder_db_url"' in new
    assert (
        "recorder_db_url: 'postgresql://hass:${config.sops.placeholder."
        '"home-assistant/recorder/db_url"}@db.lan/hass\'' in new
    )


def test_a_redis_password_restarts_the_instance_that_reads_it() -> None:
    """requirePassFile is read by the instance's ExecStartPre: a new value takes a
    restart of redis-<name> (redis for the server named "", the old options' rename);
    migrate had written no restartUnits (helper-106)."""
    from secretkit.nix.catalogue.redis import _unit

    assert _unit(("services", "redis", "servers", "cache", "requirePass")) == "redis-cache.service"
    assert _unit(("services", "redis", "servers", "", "requirePass")) == "redis.service"
    assert _unit(("services", "redis", "requirePass")) == "redis.service"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ('rcloneConfig = { type = "b2"; };', "rcloneConfig"),
        ('repositoryFile = "/etc/r";', "repositoryFile is set as well"),
        ("user = cfg.user;", "the backup's user is not a plain string"),
    ],
)
def test_a_restic_repository_the_module_reads_otherwise_is_refused(extra: str, reason: str) -> None:
    """helper-126: a repository URL with credentials had no route; now it has one
    (repositoryFile), except where the module reads `repository` itself (rclone's remote
    name) or the backup's file or user are not what the reading can tell."""
    before = (
        b"{ config, ... }:\n{\n  services.restic.backups.b = {\n"
        b'    repository = "rest:https://u:@REST_PASSWORD@@host.lan/r";\n    '
        + extra.encode()
        + b"\n  };\n}\n"
    )
    source, findings, _values = fill(before, MODULE)
    plan = plan_module(source, MODULE, findings=findings)
    assert plan.moves == []
    (refused,) = plan.refused
    assert reason in refused.reason
