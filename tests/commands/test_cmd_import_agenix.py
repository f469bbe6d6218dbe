"""`import agenix` on a realistic agenix repository (tests/commands/agenix_support.py):
values byte for byte, who can open what, the Nix code, the npm reader, `check`."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from secretkit.nix import cst
from secretkit.sops import document, operations
from secretkit.sops.identities import load_identities
from tests.commands.agenix_support import (
    HOSTS,
    SECRETS,
    AgenixLab,
    build_the_rules,
    make_lab,
    run,
)
from tests.conftest import commit_all, git, need_tool
from tests.support import fake

INTEROP = Path(__file__).resolve().parents[1] / "interop"
OPTION_ATTRS = ("owner", "group", "mode", "path")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> AgenixLab:
    return make_lab(tmp_path_factory.mktemp("agenix"))


@pytest.fixture
def lab(template: AgenixLab, tmp_path: Path) -> AgenixLab:
    return template.copy(tmp_path / "repo")


def _data_key(path: Path, keyfile: Path) -> bytes | None:
    """The file's data key opened by the age CLI with ``keyfile`` (None: not a reader)."""
    from ruamel.yaml import YAML

    tree = YAML(typ="safe").load(path.read_text())  # JSON is YAML too
    for entry in tree["sops"]["age"]:
        opened = subprocess.run(
            ["age", "-d", "-i", str(keyfile)], input=entry["enc"].encode(), capture_output=True
        )
        if opened.returncode == 0:
            return opened.stdout
    return None


def _binary_value(path: Path, keyfile: Path) -> bytes | None:
    """A sops binary file read without secretkit: the data key through the age CLI,
    the value with AES-GCM (additional data "data:", as sops does), the MAC checked.
    The npm reader cannot check the MAC of a value that is not UTF-8 (it hashes a JS
    string), so this non-text file is read here instead."""
    key = _data_key(path, keyfile)
    if key is None:
        return None
    envelope = json.loads(path.read_text())
    fields = re.fullmatch(
        r"ENC\[AES256_GCM,data:(.*),iv:(.*),tag:(.*),type:str\]", envelope["data"]
    )
    assert fields is not None
    data, iv, tag = (base64.b64decode(x) for x in fields.groups())
    value = AESGCM(key).decrypt(iv, data + tag, b"data:")
    # the MAC as sops computes it (SHA-512 of the raw value, uppercase hex, encrypted
    # with the lastmodified string as additional data)
    mac = re.fullmatch(
        r"ENC\[AES256_GCM,data:(.*),iv:(.*),tag:(.*),type:str\]", envelope["sops"]["mac"]
    )
    assert mac is not None
    m_data, m_iv, m_tag = (base64.b64decode(x) for x in mac.groups())
    stored = AESGCM(key).decrypt(m_iv, m_data + m_tag, envelope["sops"]["lastmodified"].encode())
    assert stored == hashlib.sha512(value).hexdigest().upper().encode()
    return value


def _npm_read(path: Path, keyfile: Path) -> tuple[bool, object]:
    """(whether the independent reader opens it, what it read)."""
    if path.suffix == ".bin":
        value = _binary_value(path, keyfile)
        return value is not None, value
    need_tool("node")
    proc = subprocess.run(
        ["node", str(INTEROP / "read_sops.mjs"), str(path), "yaml", str(keyfile)],
        capture_output=True,
        check=False,
        timeout=60,
    )
    return proc.returncode == 0, json.loads(proc.stdout) if proc.returncode == 0 else None


def _sops_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "secrets").iterdir() if p.suffix in (".yaml", ".bin"))


def _plain(path: Path, keyfile: Path) -> dict[str, bytes]:
    """name → value bytes, read with our engine and the given identity."""
    identities = load_identities({"SOPS_AGE_KEY_FILE": str(keyfile), "HOME": "/nonexistent"})
    fmt = "binary" if path.suffix == ".bin" else "yaml"
    plain = operations.decrypt_bytes(path.read_bytes(), fmt, identities)
    if fmt == "binary":
        return {path.stem: document.dump_plain(plain)}
    return {"/".join(map(str, k)): str(v).encode() for k, v in plain.leaves()}


def _options(data: bytes, kind: str) -> dict[str, dict[str, str]]:
    """``<kind>.secrets.<n>.<attr>`` → source text of the value, for OPTION_ATTRS."""
    tree = cst.parse(data)
    found: dict[str, dict[str, str]] = {}
    for binding in cst.bindings(tree):
        full = [p for p in binding.full_path if not p.startswith("[")]
        if len(full) < 3 or full[:2] != [kind, "secrets"]:
            continue
        attrs = found.setdefault(full[2], {})
        if len(full) == 4 and full[3] in OPTION_ATTRS:
            attrs[full[3]] = cst.node_text(tree, binding.value)
    return found


def _refs(data: bytes, kind: str) -> list[str]:
    return re.findall(rf"config\.{kind}\.secrets\.([A-Za-z0-9_-]+)\.path".encode(), data)  # type: ignore[return-value]


@pytest.mark.slow
def test_import_converts_every_secret_and_every_reference(lab: AgenixLab) -> None:
    before = lab.tree()
    result = lab.run("import", "agenix", "--yes")
    assert result.returncode == 0, result.stderr.decode()
    assert b"imported 6 agenix secret(s)" in result.stdout
    after = lab.tree()

    # the agenix side is gone, from the work tree and from the index
    gone = [f"secrets/{name}.age" for name in SECRETS] + ["secrets/secrets.nix"]
    for rel in gone:
        assert rel not in after
    assert not set(gone) & set(git(lab.root, "ls-files").split())
    # and the index holds the whole conversion, so a plain `git commit` is coherent
    assert git(lab.root, "diff", "--name-only") == ""
    staged = set(git(lab.root, "diff", "--cached", "--name-only").split())
    assert {"secrets/web1.yaml", "secrets/nginx-key.bin", "flake.nix", *gone} <= staged

    # every value byte for byte, with the admin key (our engine and the npm reader)
    stored: dict[str, bytes] = {}
    for path in _sops_files(lab.root):
        ok, data = _npm_read(path, lab.admin_keyfile)
        assert ok, path.name
        if path.suffix == ".bin":
            assert data == lab.values[path.stem]
        else:
            assert isinstance(data, dict)
            assert {k: str(v).encode() for k, v in data.items()} == {k: lab.values[k] for k in data}
        for name, value in _plain(path, lab.admin_keyfile).items():
            assert stored.setdefault(name, value) == value
    assert stored == lab.values

    # each host's converted ssh host key opens exactly what secrets.nix let it read
    for host in HOSTS:
        readable: set[str] = set()
        for path in _sops_files(lab.root):
            if _data_key(path, lab.host_keyfile(host)) is None:
                continue
            for name, value in _plain(path, lab.host_keyfile(host)).items():
                assert value == lab.values[name]
                readable.add(name)
        wanted = {name for name, (readers, _) in SECRETS.items() if host in readers}
        assert readable == wanted, host

    # the Nix code: parses, same options, every reference follows its secret
    changed = [rel for rel in after if rel.endswith(".nix") and before.get(rel) != after[rel]]
    assert sorted(changed) == [
        "flake.nix",
        "hosts/db/default.nix",
        "hosts/laptop/default.nix",
        "modules/common.nix",
        "modules/web.nix",
    ]
    nix_instantiate = need_tool("nix-instantiate")
    for rel in changed:
        parsed = subprocess.run(
            [nix_instantiate, "--parse", str(lab.root / rel)], capture_output=True, check=False
        )
        assert parsed.returncode == 0, (rel, parsed.stderr.decode()[-300:])
        assert b"age.secrets" not in after[rel] and b"config.age." not in after[rel]
    old_options: dict[str, dict[str, str]] = {}
    new_options: dict[str, dict[str, str]] = {}
    for rel in changed:
        old_options.update(_options(before[rel], "age"))
        new_options.update(_options(after[rel], "sops"))
        assert _refs(before[rel], "age") == _refs(after[rel], "sops"), rel
    for name, attrs in old_options.items():
        attrs.setdefault("path", f'"/run/agenix/{name}"')  # agenix's default, kept
    assert new_options == old_options
    used = {name.decode() for rel in changed for name in _refs(after[rel], "sops")}
    assert used and used <= set(new_options)  # every reference names a declared secret
    assert set(new_options) == {n for n, (r, _) in SECRETS.items() if set(r) - {"alice", "bob"}}
    flake = after["flake.nix"].decode()
    assert "agenix" not in flake and "sops-nix.nixosModules.sops" in flake
    assert 'sops.age.sshKeyPaths = [ "/etc/ssh/ssh_host_ed25519_key" ];' in (
        after["hosts/laptop/default.nix"].decode()
    )
    assert 'format = "binary";' in after["modules/web.nix"].decode()

    # a second run has nothing to do; check passes on the converted repository
    again = lab.run("import", "agenix", "--yes")
    assert again.returncode == 0, again.stderr.decode()
    assert b"nothing to import" in again.stdout
    assert lab.tree() == after
    commit_all(lab.root, "sops")
    check = lab.run("check")
    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()


def test_dry_run_shows_the_plan_and_changes_nothing(lab: AgenixLab) -> None:
    before = lab.tree()
    result = lab.run("import", "agenix", "--dry-run")
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode()
    assert lab.tree() == before
    assert not (lab.root / ".git" / "secretkit-journal").exists()
    assert "+    sopsFile = ../../secrets/db.yaml;" in out
    assert "remove secrets/wifi.age" in out
    assert "secrets/root-recovery.age       admins only" in out
    # helper-127: an admin secrets.nix kept from a file reads the host file it goes into
    assert (
        "secrets/wifi.age: secrets.nix does not let bob read it, but the rule of "
        "secrets/laptop.yaml names every admin: to keep it so, drop *admin_bob"
    ) in result.stderr.decode()
    assert "secrets/db-password.age: secrets.nix does not let" not in result.stderr.decode()
    for value in lab.values.values():
        for line in value.decode("latin-1").splitlines():
            if len(line) >= 4:
                assert line not in out + result.stderr.decode()


def test_per_secret_layout_keeps_one_file_per_former_age_file(lab: AgenixLab) -> None:
    result = lab.run("import", "agenix", "--yes", "--layout", "per-secret")
    assert result.returncode == 0, result.stderr.decode()
    names = {p.name for p in _sops_files(lab.root)}
    assert names == {f"{n}.bin" if n == "nginx-key" else f"{n}.yaml" for n in SECRETS}
    for host in HOSTS:
        readable = {p.stem for p in _sops_files(lab.root) if _data_key(p, lab.host_keyfile(host))}
        assert readable == {n for n, (readers, _) in SECRETS.items() if host in readers}
    common = (lab.root / "modules" / "common.nix").read_text()
    assert "sopsFile = ../secrets/backup-pass.yaml;" in common
    commit_all(lab.root, "sops")
    check = lab.run("check")
    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()


def test_an_ssh_key_alone_decrypts_and_verifies(lab: AgenixLab) -> None:
    """bob has only his ssh key (agenix's usual identity); .sops.yaml names its
    ssh-to-age form as admin.  wifi.age is made readable for him first."""
    bob = lab.ssh_pub["bob"]
    rules = lab.root / "secrets" / "secrets.nix"
    rules.write_text(rules.read_text().replace("[ alice laptop ]", "[ alice bob laptop ]"))
    run(
        "age", "-e", "-r", bob, "-r", lab.ssh_pub["laptop"],
        "-o", str(lab.root / "secrets" / "wifi.age"), input=lab.values["wifi"],
    )  # fmt: skip
    key = str(lab.keys / "bob_id_ed25519")
    result = lab.run(
        "import", "agenix", "--yes", SOPS_AGE_KEY_FILE="", SOPS_AGE_SSH_PRIVATE_KEY_FILE=key
    )
    assert result.returncode == 0, result.stderr.decode()
    stored: dict[str, bytes] = {}
    for path in _sops_files(lab.root):
        stored.update(_plain(path, lab.admin_keyfile))
    assert stored == lab.values


def _set(lab: AgenixLab, rel: str, path: str, value: bytes) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "secretkit", "-C", str(lab.root), "set", rel, path],
        input=value,
        env=lab.env(),
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()


def test_a_repository_already_on_sops_keeps_its_values(lab: AgenixLab) -> None:
    """db is already a sops host with its own secret; the import adds to its file."""
    added = lab.run("hosts", "add", "db", "--ssh-pubkey", lab.ssh_pub["db"])
    assert added.returncode == 0, added.stderr.decode()
    kept = fake.password("kept").encode()
    _set(lab, "secrets/db.yaml", '["grafana"]', kept)
    result = lab.run("import", "agenix", "--yes")
    assert result.returncode == 0, result.stderr.decode()
    values = _plain(lab.root / "secrets" / "db.yaml", lab.host_keyfile("db"))
    assert values == {
        "grafana": kept,
        "db-password": lab.values["db-password"],
        "backup-pass": lab.values["backup-pass"],
    }


def test_a_name_already_taken_in_a_host_file_is_refused(lab: AgenixLab) -> None:
    added = lab.run("hosts", "add", "db", "--ssh-pubkey", lab.ssh_pub["db"])
    assert added.returncode == 0, added.stderr.decode()
    _set(lab, "secrets/db.yaml", '["db-password"]', b"something else")
    before = lab.tree()
    result = lab.run("import", "agenix", "--yes")
    assert result.returncode == 3
    assert result.stderr.decode().startswith(
        "error: secrets/db.yaml already has a different value under db-password"
    )
    assert lab.tree() == before


def test_a_shared_module_read_by_a_host_without_its_host_name_stops_the_import(
    lab: AgenixLab,
) -> None:
    """A module shared by hosts reads `secrets/<networking.hostName>.yaml`; a host that
    sets no hostName is called "nixos" and would read secrets/nixos.yaml.  The import
    wrote it without a word (check failed just after); now it says so before applying,
    as migrate does, and does not write."""
    host = lab.root / "hosts" / "web1" / "default.nix"
    host.write_text(host.read_text().replace('  networking.hostName = "web1";\n', ""))
    subprocess.run(["git", "commit", "-qam", "no host name"], cwd=lab.root, check=True)
    dry = lab.run("import", "agenix", "--dry-run")
    assert dry.returncode == 0, dry.stderr.decode()
    shown = (dry.stdout + dry.stderr).decode()
    assert 'before applying: host web1 sets no networking.hostName, so NixOS names it "nixos"' in (
        shown
    )
    before = lab.tree()
    result = lab.run("import", "agenix", "--yes")
    assert result.returncode != 0
    assert "host web1 sets no networking.hostName" in result.stderr.decode()
    assert "then run secretkit import agenix again" in result.stderr.decode()
    assert lab.tree() == before


def test_an_age_file_the_rules_do_not_list_is_named_as_left_behind(lab: AgenixLab) -> None:
    """BonusPlay/sysconf had .age files secrets.nix does not list: the import plan never
    named them, and left them in place without a word."""
    stray = lab.root / "secrets" / "old" / "stray.age"
    stray.parent.mkdir(parents=True)
    stray.write_bytes((lab.root / "secrets" / "wifi.age").read_bytes())
    commit_all(lab.root, "an age file no rule lists")
    result = lab.run("import", "agenix", "--dry-run")
    assert result.returncode == 0, result.stderr.decode()
    err = result.stderr.decode()
    assert "not imported, left in place: secrets/old/stray.age (" in err
    assert "delete them if nothing reads them (git rm)" in err


def test_a_secrets_nix_that_builds_its_rules_is_refused_not_called_absent(lab: AgenixLab) -> None:
    """import agenix said "nothing to import: no agenix secrets.nix in this repository"
    (exit 0) where secrets.nix built its rules by mapAttrs over an imported list."""
    build_the_rules(lab)
    before = lab.tree()
    result = lab.run("import", "agenix", "--dry-run")
    assert result.returncode == 3
    stderr = result.stderr.decode()
    assert stderr.startswith("error: secrets/secrets.nix builds its rules with Nix code")
    assert "write its rules out in secrets/secrets.nix" in stderr
    assert "nothing to import" not in result.stdout.decode()
    assert lab.tree() == before
