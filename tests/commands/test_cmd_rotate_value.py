"""`secretkit rotate value NAME`: one secret replaced in every file that holds it (and
under any other name holding the same old value), the units to restart listed from
the Nix declarations, no value in the output."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from secretkit.sops import operations
from tests.commands.rotate_support import Lab, make_lab
from tests.conftest import commit_all
from tests.support import fake
from tests.support.cli import run_main

NAME = ("prometheus", "syncthing", "api_key")
MODULE = """{ config, ... }:
{
  services.prometheus.enable = true;
  sops.secrets."prometheus/syncthing/api_key" = {
    sopsFile = ../secrets/observer.yaml;
    restartUnits = [ "prometheus.service" "syncthing-exporter.service" ];
  };
  sops.secrets.other = { key = "prometheus/syncthing/api_key"; restartUnits = [ "b.service" ]; };
  sops.secrets."db/password".restartUnits = [ "postgresql.service" ];
  # the twin the same API key is stored as (syncthing's own host): its readers restart too
  sops.secrets."syncthing/gui/apikey".restartUnits = [ "syncthing.service" ];
}
"""


@pytest.fixture
def lab(tmp_git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lab:
    lab = make_lab(tmp_git_repo, tmp_path)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(lab.keyfile))
    old = lab.values["secrets/observer.yaml"][NAME]
    # the same API key stored for syncthing's own host under another name
    rel = "secrets/jellyfin.yaml"
    data = operations.set_values(
        (lab.root / rel).read_bytes(),
        "yaml",
        {("syncthing", "gui", "apikey"): old},
        rule=None,
        identities=lab.admin.identities(),
    )
    (lab.root / rel).write_bytes(data)
    lab.values[rel][("syncthing", "gui", "apikey")] = old
    (lab.root / "hosts").mkdir()
    (lab.root / "hosts" / "observer.nix").write_text(MODULE)
    commit_all(lab.root, "module")
    return lab


def test_rotate_value_everywhere_with_the_units_to_restart(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    old = lab.values["secrets/observer.yaml"][NAME]
    code, out, err = run_main(capsys, "-C", str(lab.root), "rotate", "value",
                              "prometheus/syncthing/api_key", "--kind", "alnum")  # fmt: skip
    assert code == 0, err
    observer = lab.plaintext("secrets/observer.yaml", lab.hosts["observer"])
    jellyfin = lab.plaintext("secrets/jellyfin.yaml", lab.hosts["jellyfin"])
    new = observer[NAME]
    assert new != old and len(new) == 32
    assert jellyfin[("syncthing", "gui", "apikey")] == new
    for rel, values in lab.values.items():  # nothing else changed
        now = lab.plaintext(rel, lab.admin)
        assert {k: v for k, v in now.items() if v != new} == {
            k: v for k, v in values.items() if v != old
        }
    assert "secrets/jellyfin.yaml: syncthing/gui/apikey: held the same value" in out
    assert "  prometheus.service  (hosts/observer.nix:4)" in out
    assert "  syncthing-exporter.service  (hosts/observer.nix:4)" in out
    assert "  b.service  (hosts/observer.nix:8)" in out
    assert "  syncthing.service  (hosts/observer.nix:11)" in out
    assert "postgresql" not in out
    for value in (old, new):
        assert value not in out + err and value[:8] not in out + err


def test_rotate_value_from_stdin(
    lab: Lab, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    value = fake.password("rotated-by-hand")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(value.encode() + b"\n")))
    code, out, err = run_main(capsys, "-C", str(lab.root), "rotate", "value",
                              "db/password", "--from-stdin")  # fmt: skip
    assert code == 0, err
    assert lab.plaintext("secrets/immich.yaml", lab.hosts["immich"])[("db", "password")] == value
    assert value not in out + err
    assert "  postgresql.service  (hosts/observer.nix:9)" in out


def test_a_declared_hashed_password_is_renewed_with_its_plain_twin(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    (lab.root / "secrets" / "generators.toml").write_text(
        '["immich/users/stian/hash"]\nkind = "hashed-password"\n'
        'also_plain = "users/stian/password"\n'
    )
    assert run_main(capsys, "-C", str(lab.root), "generate", "--all")[0] == 0
    before = lab.plaintext("secrets/immich.yaml", lab.admin)
    code, out, err = run_main(capsys, "-C", str(lab.root), "rotate", "value", "users/stian/hash")
    assert code == 0, err
    after = lab.plaintext("secrets/immich.yaml", lab.admin)
    from secretkit.nix.catalogue.password_hash import sha512_crypt

    hashed, plain = after[("users", "stian", "hash")], after[("users", "stian", "password")]
    assert hashed != before[("users", "stian", "hash")]
    assert sha512_crypt(plain, hashed.split("$")[2]) == hashed
    assert "(and users/stian/password)" in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("rotate", "value", "db/password"), 2, "is not declared in secrets/generators.toml"),
        (("rotate", "value", "nope/x", "--kind", "hex"), 3, "no sops file holds nope/x"),
        (("rotate", "value", "db/password", "--from-stdin", "--kind", "hex"), 2, "not both"),
        # a random password kept only as its hash: nobody could log in with it
        (
            ("rotate", "value", "db/password", "--kind", "hashed-password"),
            2,
            "nobody could log in with it",
        ),
    ],
)
def test_rotate_value_usage(
    lab: Lab, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...], code: int, message: str,
) -> None:  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"some-new-value\n")))
    before = lab.files()
    got, _, err = run_main(capsys, "-C", str(lab.root), *args)
    assert (got, message in err) == (code, True), err
    assert lab.files() == before


def test_the_readers_of_a_rotated_value_are_told_what_else_they_need(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    """A borg repository opens only with its current passphrase; Syncthing still accepts
    the API key in config.xml; a template's service restarts when the value changes."""
    (lab.root / "hosts" / "jelly.nix").write_text(
        """{ config, ... }:
{
  services.borgbackup.jobs.media.encryption.passCommand =
    "cat ${config.sops.secrets."db/password".path}";
  sops.templates."syncthing-gui.env" = {
    content = ''
      STGUIAPIKEY=${config.sops.placeholder."prometheus/syncthing/api_key"}
    '';
    restartUnits = [ "syncthing.service" ];
  };
  sops.secrets."prometheus/syncthing/api_key" = { };
}
"""
    )
    commit_all(lab.root, "readers")
    code, out, err = run_main(capsys, "-C", str(lab.root), "rotate", "value",
                              "db/password", "--kind", "alnum")  # fmt: skip
    assert code == 0, err
    assert "warning: a borg repository opens only with its current passphrase" in err
    code, out, err = run_main(capsys, "-C", str(lab.root), "rotate", "value",
                              "prometheus/syncthing/api_key", "--kind", "alnum")  # fmt: skip
    assert code == 0, err
    assert "warning: Syncthing also accepts the API key in its config.xml" in err
    assert "  syncthing.service  (hosts/jelly.nix:" in out
    assert "restic" not in err


def test_a_restic_password_is_rotated_with_the_key_add_step(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    """A restic repository opens only with a password it knows: the new one has to be
    added to it before the deploy."""
    (lab.root / "hosts" / "jelly.nix").write_text(
        """{ config, ... }:
{
  services.restic.backups.nas = {
    repository = "sftp:backup@nas:/srv/restic";
    passwordFile = config.sops.secrets."db/password".path;
  };
}
"""
    )
    commit_all(lab.root, "restic")
    code, _out, err = run_main(capsys, "-C", str(lab.root), "rotate", "value",
                              "db/password", "--kind", "alnum")  # fmt: skip
    assert code == 0, err
    assert "warning: a restic repository opens only with a password it knows" in err
    assert "`restic key add`" in err and "borg" not in err


def test_values_a_service_reads_only_once_are_rotated_with_the_step_that_changes_them(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    """Grafana's admin password is set when Grafana creates its admin user, and NixOS
    writes a user's hashedPasswordFile over an existing account only with
    users.mutableUsers = false: rotate said only "restart its services", and exposed
    then listed the value as rotated while the old one still let anyone in."""
    reads = {
        "grafana": "services.grafana.settings.security.admin_password =\n"
        '    "$__file{${config.sops.secrets."db/password".path}}";',
        "user": 'users.users.stian.hashedPasswordFile = config.sops.secrets."db/password".path;',
    }

    def rotated(reader: str, note: str) -> str:
        (lab.root / "hosts" / "jelly.nix").write_text(
            "{ config, ... }:\n{\n  " + reads[reader] + "\n}\n"
        )
        commit_all(lab.root, note)
        code, _out, err = run_main(capsys, "-C", str(lab.root), "rotate", "value",
                                  "db/password", "--kind", "alnum")  # fmt: skip
        assert code == 0, err
        return err

    err = rotated("grafana", "grafana")
    assert "warning: Grafana sets its admin password only when it first creates" in err
    assert "passwd" not in err
    err = rotated("user", "a user's password")
    assert "set the new password on each host with `passwd <user>`" in err
    assert "Grafana" not in err
    # a repository that writes passwords over accounts on every activation needs no step
    (lab.root / "hosts" / "users.nix").write_text("{ ... }:\n{\n  users.mutableUsers = false;\n}\n")
    assert "passwd" not in rotated("user", "immutable users")


def test_an_item_of_a_list_is_rotated_by_its_index(
    lab: Lab, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """check's decrypted-copy fix names a list item of an encrypted docker-compose file
    as services/uploader/environment/1; rotate value said "services:uploader:environment
    is not a mapping".  The item is replaced in place; the list keeps its other items."""
    from secretkit.sops import document

    rel = "secrets/observer.yaml"
    old = "AWS_SECRET_ACCESS_KEY=" + fake.password("compose-old")
    plain = operations.decrypt_bytes(
        (lab.root / rel).read_bytes(), "yaml", lab.admin.identities(), source=rel
    )
    plain.root.append(("services", document.from_python({"uploader": {"environment": [
        "REGION=eu-west-1", old]}})))  # fmt: skip
    key = operations.data_key_of(operations.load((lab.root / rel).read_bytes(), "yaml"),
                                 lab.admin.identities())  # fmt: skip
    sops = operations.load((lab.root / rel).read_bytes(), "yaml")
    (lab.root / rel).write_bytes(document.dump(document.encrypt(plain, key, sops.metadata)))
    commit_all(lab.root, "compose values")
    new = "AWS_SECRET_ACCESS_KEY=" + fake.password("compose-new")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(new.encode() + b"\n")))
    code, out, err = run_main(capsys, "-C", str(lab.root), "rotate", "value",
                              "services/uploader/environment/1", "--from-stdin")  # fmt: skip
    assert code == 0, err
    after = operations.decrypt_bytes(
        (lab.root / rel).read_bytes(), "yaml", lab.admin.identities(), source=rel
    )
    assert after.get(["services", "uploader", "environment"]) == ["REGION=eu-west-1", new]
    assert old not in out + err and new not in out + err


def test_a_name_holding_a_key_per_host_gets_a_new_key_per_host_and_its_public_out(
    lab: Lab, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``wg/private`` is each host's own WireGuard key: a rotation gives each host a new
    key of its own (one key on two peers breaks the tunnel) and writes each public half
    to its public_out, which the peers read (the old one there would cut the tunnel at
    the next deploy)."""
    import subprocess

    from tests.conftest import need_tool

    wg = need_tool("wg")
    (lab.root / "secrets" / "generators.toml").write_text(
        '["jellyfin/wg/private"]\nkind = "wireguard"\npublic_out = "hosts/jellyfin/wg.pub"\n'
        '["observer/wg/private"]\nkind = "wireguard"\npublic_out = "hosts/observer/wg.nix"\n'
    )
    assert run_main(capsys, "-C", str(lab.root), "generate", "--all")[0] == 0

    def public(host: str) -> str:
        private = lab.plaintext(f"secrets/{host}.yaml", lab.admin)[("wg", "private")]
        made = subprocess.run([wg, "pubkey"], input=private.encode(), capture_output=True)
        return made.stdout.decode().strip()

    first = {host: public(host) for host in ("jellyfin", "observer")}
    code, out, err = run_main(capsys, "-C", str(lab.root), "rotate", "value", "wg/private")
    assert code == 0, err
    second = {host: public(host) for host in ("jellyfin", "observer")}
    assert second["jellyfin"] != second["observer"]
    assert not set(first.values()) & set(second.values())
    assert (lab.root / "hosts/jellyfin/wg.pub").read_text() == second["jellyfin"] + "\n"
    assert (lab.root / "hosts/observer/wg.nix").read_text() == f'"{second["observer"]}"\n'
    assert f"new public key: {second['jellyfin']} (of secrets/jellyfin.yaml)\n  written to" in out
    assert f"new public key: {second['observer']} (of secrets/observer.yaml)\n  written to" in out

    # one value on stdin for two secrets: refused, nothing written
    mine = subprocess.run([wg, "genkey"], capture_output=True, check=True).stdout
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(mine)))
    before = lab.files()
    code, out, err = run_main(capsys, "-C", str(lab.root), "rotate", "value", "wg/private",
                              "--from-stdin")  # fmt: skip
    assert code == 2 and "holds 2 different values" in err
    # (the hint is the run above, which works)
    assert "(hint: give each its own new value: secretkit rotate value wg/private)" in err
    assert lab.files() == before


def test_a_wireguard_key_from_stdin_writes_its_public_half(
    lab: Lab, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    from tests.conftest import need_tool

    wg = need_tool("wg")
    (lab.root / "secrets" / "generators.toml").write_text(
        '["observer/wg/private"]\nkind = "wireguard"\npublic_out = "hosts/observer/wg.nix"\n'
    )
    assert run_main(capsys, "-C", str(lab.root), "generate", "--all")[0] == 0
    mine = subprocess.run([wg, "genkey"], capture_output=True, check=True).stdout
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(mine)))
    code, out, err = run_main(capsys, "-C", str(lab.root), "rotate", "value", "wg/private",
                              "--from-stdin")  # fmt: skip
    assert code == 0, err
    stored = lab.plaintext("secrets/observer.yaml", lab.admin)[("wg", "private")]
    assert stored == mine.decode().strip()
    expected = subprocess.run([wg, "pubkey"], input=mine, capture_output=True).stdout.decode()
    assert (lab.root / "hosts/observer/wg.nix").read_text() == f'"{expected.strip()}"\n'
    assert stored not in out + err

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"not a key\n")))
    before = lab.files()
    code, out, err = run_main(capsys, "-C", str(lab.root), "rotate", "value", "wg/private",
                              "--from-stdin")  # fmt: skip
    assert code == 2 and "holds no WireGuard private key" in err
    assert lab.files() == before


def test_a_files_text_is_not_replaced_by_a_generated_value(
    lab: Lab, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A docker-compose file stored whole: `rotate value NAME --kind password` (what
    check's and exposed's fix offered) replaced the whole file with a password."""
    password = fake.password("compose")
    compose = f"services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: {password}\n"
    rel = "secrets/immich.yaml"
    data = operations.set_values(
        (lab.root / rel).read_bytes(),
        "yaml",
        {("immich-compose",): compose},
        rule=None,
        identities=lab.admin.identities(),
    )
    (lab.root / rel).write_bytes(data)
    before = lab.files()
    code, _out, err = run_main(capsys, "-C", str(lab.root), "rotate", "value", "immich-compose",
                              "--kind", "password")  # fmt: skip
    assert code == 2
    assert "immich-compose holds a file's text (4 lines)" in err
    assert "secretkit rotate value immich-compose --from-stdin < <the new file>" in err
    assert lab.files() == before
    # (helper-123: one new password on stdin would have become the whole file)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"Just-the-password-9\n")))
    code, _out, err = run_main(capsys, "-C", str(lab.root), "rotate", "value", "immich-compose",
                              "--from-stdin")  # fmt: skip
    assert code == 2
    assert "immich-compose holds a text of 4 lines, and the one line on stdin" in err
    assert f"secretkit edit {rel}" in err
    assert lab.files() == before
    new = compose.replace(password, fake.password("compose-new"))
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(new.encode())))
    code, _out, err = run_main(capsys, "-C", str(lab.root), "rotate", "value", "immich-compose",
                              "--from-stdin")  # fmt: skip
    assert code == 0, err
    assert lab.plaintext(rel, lab.admin)[("immich-compose",)].strip() == new.strip()


def test_a_hash_with_no_plain_twin_is_renewed_from_stdin_as_the_hint_says(
    lab: Lab, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hint said `--kind hashed-password (or --from-stdin)`; followed, that kind was
    refused (a random password kept only as its hash).  Only the way that works is said."""
    from secretkit.nix.catalogue.password_hash import sha512_crypt

    rel = "secrets/immich.yaml"
    hashed = sha512_crypt(fake.password("old-login"), "saltsalt")
    data = operations.set_values(
        (lab.root / rel).read_bytes(), "yaml", {("db", "password"): hashed},
        rule=None, identities=lab.admin.identities(),
    )  # fmt: skip
    (lab.root / rel).write_bytes(data)
    commit_all(lab.root, "a hash")
    code, _out, err = run_main(
        capsys, "-C", str(lab.root), "rotate", "value", "db/password", "--kind", "password"
    )
    assert code == 2
    assert err.strip().endswith(
        "(hint: give the new password: echo NEW | secretkit rotate value db/password --from-stdin)"
    )
    value = fake.password("new-login")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(value.encode() + b"\n")))
    code, _out, err = run_main(
        capsys, "-C", str(lab.root), "rotate", "value", "db/password", "--from-stdin"
    )
    assert code == 0, err
    stored = lab.plaintext(rel, lab.admin)[("db", "password")]
    assert stored.startswith("$6$") and sha512_crypt(value, stored.split("$")[2]) == stored


def test_a_hash_with_no_kind_asked_and_a_hash_given_on_stdin(
    lab: Lab, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """helper-105: with no --kind the hint still said "pass --kind KIND", and every kind
    was refused; `mkpasswd | … --from-stdin` stored a hash of the hash (nobody could log
    in).  Only --from-stdin is said; a crypt hash given is stored as it is."""
    from secretkit.nix.catalogue.password_hash import sha512_crypt

    rel = "secrets/immich.yaml"
    data = operations.set_values(
        (lab.root / rel).read_bytes(), "yaml",
        {("db", "password"): sha512_crypt(fake.password("old"), "saltsalt")},
        rule=None, identities=lab.admin.identities(),
    )  # fmt: skip
    (lab.root / rel).write_bytes(data)
    commit_all(lab.root, "a hash")
    code, _out, err = run_main(capsys, "-C", str(lab.root), "rotate", "value", "db/password")
    assert code == 2 and "--kind" not in err
    assert err.strip().endswith("echo NEW | secretkit rotate value db/password --from-stdin)")
    new = sha512_crypt(fake.password("typed"), "pepper12")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(new.encode() + b"\n")))
    code, out, err = run_main(
        capsys, "-C", str(lab.root), "rotate", "value", "db/password", "--from-stdin"
    )
    assert code == 0, err
    assert "a crypt hash stored as given" in out
    assert lab.plaintext(rel, lab.admin)[("db", "password")] == new
