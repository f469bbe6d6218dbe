"""Files secretkit writes are read by implementations nobody here wrote:

* the npm reader in tests/interop (sops-age decrypts; sops-decoder re-derives every
  value and checks the MAC), and
* the Debian ``age`` CLI, which must open every ``enc`` armor to the data key.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from secretkit.sops import document, operations
from secretkit.sops.config import parse_config
from secretkit.sops.identities import load_identities
from tests.conftest import ROOT, need, need_tool
from tests.sops.keys_support import AgeKey, age_key, age_rule_config, run_cli

INTEROP = ROOT / "tests" / "interop"
NODE_TYPE = {"yaml": "yaml", "json": "json", "dotenv": "env", "binary": "binary"}
SUFFIX = {"yaml": ".yaml", "json": ".json", "dotenv": ".env", "binary": ".bin"}
SAMPLES = {
    "yaml": b"db:\n    password: not-real-pw\n    port: 5432\n    ratio: 0.25\n"
    b"flag: true\nlist:\n    - a\n    - nested: value\nempty: ''\nkept_unencrypted: clear\n",
    "json": b'{"token": "not-a-token", "n": 7, "f": 1.5, "ok": false, "arr": [1, "two"]}',
    "dotenv": b"API_KEY=not-real\nMULTI=line one\\nline two\nEMPTY=\n",
    "binary": b"binary\x00payload\nwith lines\n\n",
}


def _reader() -> Path:
    need_tool("node")
    need(
        (INTEROP / "node_modules" / "sops-decoder").is_dir()
        and (INTEROP / "node_modules" / "sops-age").is_dir(),
        "npm packages missing: run `npm install` in tests/interop",
    )
    return INTEROP / "read_sops.mjs"


def read_with_npm(path: Path, fmt: str, keyfile: Path) -> object:
    proc = subprocess.run(
        ["node", str(_reader()), str(path), NODE_TYPE[fmt], str(keyfile)],
        capture_output=True,
        check=False,
        timeout=60,
    )
    if proc.returncode != 0:
        raise AssertionError(f"npm reader rejected {path.name}: {proc.stderr.decode()[:300]}")
    return json.loads(proc.stdout)


def _expected(plain: document.PlainFile) -> object:
    value = plain.to_python()
    if plain.fmt == "binary" and not isinstance(value, dict):
        raw = document.dump_plain(plain)
        return {"data": raw.decode("utf-8")}
    return value


def _encrypt(tmp_path: Path, fmt: str, keys: list[AgeKey]) -> tuple[Path, document.PlainFile]:
    config = parse_config(
        ("creation_rules:\n  - age: " + ",".join(k.public for k in keys) + "\n").encode(),
        tmp_path / ".sops.yaml",
    )
    path = tmp_path / f"secret{SUFFIX[fmt]}"
    rule = config.rule_for(path)
    assert rule is not None
    plain = document.load_plain(SAMPLES[fmt], fmt)
    path.write_bytes(operations.encrypt_new(plain, rule))
    return path, plain


def test_the_reader_accepts_real_sops_and_rejects_tampering(
    sops_fixtures: Path, tmp_path: Path
) -> None:
    key = sops_fixtures / "keys/humphd-sops-age-key.txt"
    source = sops_fixtures / "humphd-sops-age/secret.enc.yaml"
    assert read_with_npm(source, "yaml", key)["secret"] == "this is a secret"  # type: ignore[index]
    tampered = tmp_path / "t.yaml"
    text = source.read_text()
    line = next(x for x in text.splitlines() if x.startswith("string:"))
    data = line.split("data:")[1].split(",")[0]
    flipped = ("A" if data[0] != "A" else "B") + data[1:]
    tampered.write_text(text.replace(line, line.replace(data, flipped)))
    with pytest.raises(AssertionError, match="rejected"):
        read_with_npm(tampered, "yaml", key)


@pytest.mark.parametrize("fmt", ["yaml", "json", "dotenv", "binary"])
def test_npm_reader_opens_what_we_write(tmp_path: Path, fmt: str) -> None:
    _reader()
    keys = [age_key(), age_key(), age_key()]
    path, plain = _encrypt(tmp_path, fmt, keys)
    for index, key in enumerate(keys):
        keyfile = key.write(tmp_path / f"key{index}.txt")
        assert read_with_npm(path, fmt, keyfile) == _expected(plain)


@pytest.mark.parametrize("fmt", ["yaml", "json", "dotenv", "binary"])
def test_age_cli_opens_every_enc_armor(tmp_path: Path, fmt: str) -> None:
    age = need_tool("age")
    keys = [age_key(), age_key()]
    path, _ = _encrypt(tmp_path, fmt, keys)
    sops = document.load_encrypted(path.read_bytes(), fmt)
    by_recipient = {entry.ident: entry.enc for entry in sops.metadata.all_keys()}
    assert set(by_recipient) == {k.public for k in keys}
    data_key = operations.data_key_of(
        sops, load_identities({"SOPS_AGE_KEY": keys[0].secret, "HOME": "/x"})
    )
    for index, key in enumerate(keys):
        enc = by_recipient[key.public]
        assert enc.endswith("-----END AGE ENCRYPTED FILE-----\n")
        keyfile = key.write(tmp_path / f"k{index}.txt")
        out = subprocess.run(
            [age, "-d", "-i", str(keyfile)], input=enc.encode(), capture_output=True, check=True
        )
        assert out.stdout == data_key


def test_npm_reader_after_cli_set_updatekeys_and_rotate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _reader()
    a, b = age_key(), age_key()
    root = tmp_path / "repo"
    (root / "secrets").mkdir(parents=True)
    age_rule_config(root, a.public)
    keyfile_a = a.write(tmp_path / "a.txt")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(keyfile_a))
    target = root / "secrets/app.yaml"
    target.write_bytes(SAMPLES["yaml"])
    assert run_cli(["-C", str(root), "encrypt", "-i", "secrets/app.yaml"]).code == 0
    assert (
        run_cli(
            ["-C", str(root), "set", "secrets/app.yaml", '["db"]["password"]'], input=b"changed\n"
        ).code
        == 0
    )
    age_rule_config(root, a.public, b.public)
    assert run_cli(["-C", str(root), "updatekeys", "secrets/app.yaml"]).code == 0
    assert read_with_npm(target, "yaml", b.write(tmp_path / "b.txt"))["db"]["password"] == (  # type: ignore[index]
        "changed"
    )
    assert run_cli(["-C", str(root), "rotate", "data-keys"]).code == 0
    for keyfile in (keyfile_a, tmp_path / "b.txt"):
        result = read_with_npm(target, "yaml", keyfile)
        assert result["db"]["password"] == "changed"  # type: ignore[index]
        assert result["flag"] is True  # type: ignore[index]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("humphd-sops-age/secret.enc.yaml", "yaml"),
        ("humphd-sops-age/secret.enc.json", "json"),
        ("humphd-sops-age/secret.enc.env", "dotenv"),
    ],
)
def test_real_sops_files_after_updatekeys_and_rotate(
    sops_fixtures: Path, tmp_path: Path, name: str, fmt: str
) -> None:
    """A file real sops wrote, re-keyed and rotated by us, still reads everywhere."""
    _reader()
    fixture_key = sops_fixtures / "keys/humphd-sops-age-key.txt"
    ids = load_identities({"SOPS_AGE_KEY_FILE": str(fixture_key), "HOME": "/x"})
    original = (sops_fixtures / name).read_bytes()
    want = read_with_npm(sops_fixtures / name, fmt, fixture_key)
    newcomer = age_key()
    first = ids.recipients[0]
    config = parse_config(
        f"creation_rules:\n  - age: [{first}, {newcomer.public}]\n".encode(),
        tmp_path / ".sops.yaml",
    )
    rule = config.rules[0]
    updated = operations.updatekeys_bytes(original, fmt, rule, ids)
    assert updated is not None
    path = tmp_path / Path(name).name
    path.write_bytes(updated)
    newcomer_file = newcomer.write(tmp_path / "new.txt")
    assert read_with_npm(path, fmt, newcomer_file) == want
    path.write_bytes(operations.rotate_bytes(updated, fmt, ids))
    assert read_with_npm(path, fmt, newcomer_file) == want
    assert read_with_npm(path, fmt, fixture_key) == want


def test_ssh_ed25519_recipient_end_to_end(
    sops_fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ``ssh-ed25519`` recipient in .sops.yaml: the CLI encrypts for it, the ssh private
    key opens it (SOPS_AGE_SSH_PRIVATE_KEY_FILE), and so does ``age -d -i <ssh key>``."""
    age = need_tool("age")
    pub_line = (sops_fixtures / "keys/sops-nix-ssh-ed25519-key.pub").read_text().strip()
    private = tmp_path / "id_ed25519"
    private.write_bytes((sops_fixtures / "keys/sops-nix-ssh-ed25519-key").read_bytes())
    private.chmod(0o600)
    root = tmp_path / "repo"
    root.mkdir()
    (root / ".sops.yaml").write_text(f'creation_rules:\n  - age: "{pub_line}"\n')
    (root / "s.yaml").write_bytes(SAMPLES["yaml"])
    monkeypatch.setenv("SOPS_AGE_SSH_PRIVATE_KEY_FILE", str(private))
    assert run_cli(["-C", str(root), "encrypt", "-i", "s.yaml"]).code == 0
    sops = document.load_encrypted((root / "s.yaml").read_bytes(), "yaml")
    assert operations.recipients_of(sops) == [[" ".join(pub_line.split()[:2])]]
    decrypted = run_cli(["-C", str(root), "decrypt", "s.yaml"]).stdout
    want = document.load_plain(SAMPLES["yaml"], "yaml").to_python()
    assert document.load_plain(decrypted, "yaml").to_python() == want
    out = subprocess.run(
        [age, "-d", "-i", str(private)],
        input=sops.metadata.key_groups[0][0].enc.encode(),
        capture_output=True,
        check=True,
    )
    assert out.stdout == operations.data_key_of(sops, load_identities())
