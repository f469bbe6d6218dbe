"""`secretkit rotate host` with real keys: the old host key opens no current file,
the admin and the new key do, values are unchanged, other hosts' files are untouched
byte for byte, and nothing changes when a file cannot be opened or verified."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.errors import SecretkitError
from secretkit.sops import document, operations
from tests.commands.rotate_support import (
    HOST_SECRETS,
    SHARED_SECRETS,
    Key,
    Lab,
    make_lab,
    ssh_host_key,
)
from tests.commands.rotate_support import age_key as new_age_key

OBSERVER_FILES = ("secrets/observer.yaml", "secrets/shared.yaml")
OTHER_FILES = ("secrets/immich.yaml", "secrets/jellyfin.yaml")


@pytest.fixture
def lab(tmp_git_repo: Path, tmp_path: Path) -> Lab:
    return make_lab(tmp_git_repo, tmp_path)


def _data_key(data: bytes, key: Key) -> bytes:
    sops = document.load_encrypted(data, "yaml")
    return operations.data_key_of(sops, key.identities())


def test_rotate_host_locks_the_old_key_out(lab: Lab) -> None:
    old = lab.hosts["observer"]
    new = ssh_host_key()
    before = lab.files()
    old_data_keys = {rel: _data_key(before[rel], old) for rel in OBSERVER_FILES}
    sops_yaml_before = (lab.root / ".sops.yaml").read_text()
    assert new.ssh_pub is not None

    result = lab.cli("rotate", "host", "observer", "--ssh-pubkey", new.ssh_pub)

    assert result.code == 0, result.err
    text = (lab.root / ".sops.yaml").read_text()
    assert f"&host_observer {new.public}" in text and old.public not in text
    # comments and the other anchors are kept; only the observer key line changed
    changed = [
        (a, b)
        for a, b in zip(sops_yaml_before.splitlines(), text.splitlines(), strict=True)
        if a != b
    ]
    assert changed == [(f"  - &host_observer {old.public}", f"  - &host_observer {new.public}")]
    for rel in OBSERVER_FILES:
        assert not lab.opens(rel, old), rel
        assert lab.opens(rel, new) and lab.opens(rel, lab.admin), rel
        assert lab.plaintext(rel, new) == lab.values[rel]
        assert lab.plaintext(rel, lab.admin) == lab.values[rel]
        # a new data key: the old one (which the old host key could open in git
        # history) decrypts none of the current values
        current = document.load_encrypted((lab.root / rel).read_bytes(), "yaml")
        assert operations.data_key_of(current, lab.admin.identities()) != old_data_keys[rel]
        with pytest.raises(SecretkitError):
            document.decrypt(current, old_data_keys[rel])
    assert lab.opens("secrets/shared.yaml", lab.hosts["immich"])
    for rel in OTHER_FILES:
        assert (lab.root / rel).read_bytes() == before[rel], rel
    out = result.out
    assert out.splitlines()[0] == f".sops.yaml: host observer now has key {new.public}"
    assert f"secrets/observer.yaml: new data key (+{new.public} -{old.public})" in out
    assert "rotated 2 file(s) of host observer: the old key opens none of them" in out
    assert "--compromised" in result.err
    assert not (lab.root / ".git" / "secretkit-journal").exists()


def _exposed(out: str) -> set[tuple[str, str]]:
    lines = out.split("change them at their provider", 1)[1].splitlines()[1:]
    pairs = set()
    for line in lines:
        assert line.startswith("  "), line
        rel, name = line.strip().split(": ", 1)
        pairs.add((rel, name))
    return pairs


def test_compromised_lists_exactly_the_names_the_old_key_could_read(lab: Lab) -> None:
    result = lab.cli("rotate", "host", "observer", "--age", new_age_key().public, "--compromised")
    assert result.code == 0, result.err
    out = result.out
    expected = {("secrets/observer.yaml", "/".join(p)) for p in HOST_SECRETS["observer"]}
    expected |= {("secrets/shared.yaml", "/".join(p)) for p in SHARED_SECRETS}
    assert _exposed(out) == expected
    assert ("secrets/observer.yaml", "alertmanager/pushover/token") in expected
    for values in lab.values.values():
        for value in values.values():
            assert value not in out and value not in result.err


def test_key_from_a_pub_file_and_rerun_rekeys_again(lab: Lab) -> None:
    new = ssh_host_key()
    pub = lab.root.parent / "observer.pub"
    pub.write_text(f"{new.ssh_pub}\n")
    first = lab.cli("rotate", "host", "observer", "--ssh-pubkey-file", str(pub))
    assert first.code == 0, first.err
    after_first = lab.files()
    again = lab.cli("rotate", "host", "observer", "--ssh-pubkey-file", str(pub))
    assert again.code == 0, again.err
    assert f"already has key {new.public}" in again.out
    for rel in OBSERVER_FILES:  # new data keys again, same values
        assert (lab.root / rel).read_bytes() != after_first[rel]
        assert lab.plaintext(rel, new) == lab.values[rel]
    for rel in OTHER_FILES:
        assert (lab.root / rel).read_bytes() == after_first[rel]


def test_no_identity_stops_before_anything_changes(lab: Lab, tmp_path: Path) -> None:
    before = lab.files()
    config = (lab.root / ".sops.yaml").read_bytes()
    stranger = new_age_key().write(tmp_path / "stranger.txt")
    result = lab.cli(
        "rotate", "host", "observer", "--age", new_age_key().public,
        env={"SOPS_AGE_KEY_FILE": str(stranger)},
    )  # fmt: skip
    assert result.code == 3
    err = result.err
    assert err.startswith(
        "error: no available identity opens 2 file(s): secrets/observer.yaml, secrets/shared.yaml"
    )
    assert "nothing was changed" in err and "SOPS_AGE_KEY_FILE" in err
    assert lab.files() == before
    assert (lab.root / ".sops.yaml").read_bytes() == config


def test_an_identity_that_opens_only_some_files_names_the_others(lab: Lab, tmp_path: Path) -> None:
    # immich's key opens shared.yaml but not the observer's own file
    immich = lab.hosts["immich"].write(tmp_path / "immich.txt")
    before = lab.files()
    result = lab.cli(
        "rotate", "host", "observer", "--age", new_age_key().public,
        env={"SOPS_AGE_KEY_FILE": str(immich)},
    )  # fmt: skip
    assert result.code == 3
    assert "opens 1 file(s): secrets/observer.yaml " in result.err
    assert lab.files() == before


def test_a_tampered_file_is_an_integrity_error_and_nothing_changes(lab: Lab) -> None:
    path = lab.root / "secrets/shared.yaml"
    lines = path.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if "auth_key: ENC[" in line)
    value = lines[at]
    cut = value.index("ENC[AES256_GCM,data:") + len("ENC[AES256_GCM,data:")
    flipped = "A" if value[cut] != "A" else "B"
    lines[at] = value[:cut] + flipped + value[cut + 1 :]
    path.write_text("".join(lines))
    before = lab.files()
    config = (lab.root / ".sops.yaml").read_bytes()
    result = lab.cli("rotate", "host", "observer", "--age", new_age_key().public)
    assert result.code == 4, result.err
    assert result.err.startswith("error: cannot re-key secrets/shared.yaml: ")
    assert lab.files() == before
    assert (lab.root / ".sops.yaml").read_bytes() == config


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["nosuch", "--age", "AGE"], 3, "error: no host nosuch in .sops.yaml"),
        (["observer"], 2, "error: give exactly one of --age, --ssh-pubkey, --ssh-pubkey-file"),
        (["observer", "--age", "AGE", "--ssh-pubkey", "x"], 2, "error: give exactly one of"),
        (["observer", "--age", "age1nope"], 3, "error: "),
        (["../x", "--age", "AGE"], 3, "error: invalid host name"),
    ],
)
def test_bad_arguments(lab: Lab, args: list[str], code: int, message: str) -> None:
    before = lab.files()
    config = (lab.root / ".sops.yaml").read_bytes()
    args = [new_age_key().public if a == "AGE" else a for a in args]
    result = lab.cli("rotate", "host", *args)
    assert result.code == code, result.err
    assert result.err.startswith(message)
    assert lab.files() == before
    assert (lab.root / ".sops.yaml").read_bytes() == config


def test_rotated_files_are_read_by_the_npm_reader(lab: Lab, tmp_path: Path) -> None:
    from tests.sops.test_sops_interop import read_with_npm

    new = new_age_key()
    result = lab.cli("rotate", "host", "observer", "--age", new.public)
    assert result.code == 0, result.err
    keyfile = new.write(tmp_path / "new-observer.txt")
    for rel in OBSERVER_FILES:
        got = read_with_npm(lab.root / rel, "yaml", keyfile)
        want = lab.plaintext(rel, lab.admin)
        for path, value in want.items():
            node: object = got
            for part in path:
                assert isinstance(node, dict)
                node = node[part]
            assert node == value


def test_rotate_compromised_lists_history_names_too(lab: Lab) -> None:
    from secretkit.sops import operations
    from secretkit.sops.config import find_config
    from tests.conftest import commit_all

    config = find_config(lab.root)
    assert config is not None
    rule = config.rule_for(lab.root / "secrets/shared.yaml")
    assert rule is not None
    (lab.root / "secrets/shared.yaml").write_bytes(
        operations.set_values(
            None, "yaml", {("other", "token"): "x"}, rule=rule, identities=lab.admin.identities()
        )
    )
    commit_all(lab.root, "replace the shared secrets")
    first = lab.cli("rotate", "host", "immich", "--age", new_age_key().public, "--compromised")
    assert first.code == 0, first.err
    expected = {("secrets/immich.yaml", "/".join(p)) for p in HOST_SECRETS["immich"]}
    expected |= {
        ("secrets/shared.yaml", "other/token"),
        ("secrets/shared.yaml", "tailscale/auth_key (only in git history)"),
    }
    assert _exposed(first.out) == expected
    # the second run's old key is the first run's new one: no committed version
    # was ever encrypted for it
    again = lab.cli("rotate", "host", "immich", "--age", new_age_key().public, "--compromised")
    assert again.code == 0, again.err
    assert "only in git history" not in again.out
    assert len(_exposed(again.out)) == 3


def test_a_damaged_file_naming_the_old_key_stops_the_rotation(lab: Lab) -> None:
    old = lab.hosts["observer"]
    path = lab.root / "secrets/shared.yaml"
    lines = path.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if old.public in line)
    path.write_text("".join(lines[: at + 1]) + "      enc: |\n        -----BEGIN AGE")
    before = lab.files()
    config = (lab.root / ".sops.yaml").read_bytes()
    result = lab.cli("rotate", "host", "observer", "--age", new_age_key().public)
    assert result.code == 4, result.err
    assert result.err.startswith(
        "error: secrets/shared.yaml names the key being replaced but is not a readable sops file"
    )
    assert "nothing was changed" in result.err
    assert lab.files() == before
    assert (lab.root / ".sops.yaml").read_bytes() == config


def test_every_format_under_the_host_rule_is_rotated(tmp_git_repo: Path, tmp_path: Path) -> None:
    from secretkit.sops.config import find_config
    from tests.conftest import commit_all
    from tests.sops.test_sops_interop import read_with_npm

    lab = make_lab(tmp_git_repo, tmp_path, extra_files=1)
    config = find_config(lab.root)
    assert config is not None
    samples = {
        "secrets/observer/app.env": (b"API_KEY=abc\nOTHER=def\n", "dotenv"),
        "secrets/observer/cfg.json": (b'{"grafana": {"secret": "s3"}, "n": 7}', "json"),
        "secrets/observer/blob.bin": (b"opaque\x00bytes\n", "binary"),
    }
    for rel, (body, fmt) in samples.items():
        rule = config.rule_for(lab.root / rel)
        assert rule is not None
        plain = document.load_plain(body, fmt)
        (lab.root / rel).write_bytes(operations.encrypt_new(plain, rule))
    commit_all(lab.root, "more formats")
    old, new = lab.hosts["observer"], new_age_key()
    result = lab.cli("rotate", "host", "observer", "--age", new.public, "--compromised")
    assert result.code == 0, result.err
    exposed = _exposed(result.out)
    assert ("secrets/observer/app.env", "API_KEY") in exposed
    assert ("secrets/observer/cfg.json", "grafana/secret") in exposed
    assert ("secrets/observer/blob.bin", "data") in exposed
    keyfile = new.write(tmp_path / "new.txt")
    for rel, (body, fmt) in samples.items():
        data = (lab.root / rel).read_bytes()
        with pytest.raises(SecretkitError):
            operations.decrypt_bytes(data, fmt, old.identities())
        opened = operations.decrypt_bytes(data, fmt, new.identities())
        assert opened.to_python() == document.load_plain(body, fmt).to_python()
        if fmt in ("dotenv", "json"):
            assert read_with_npm(lab.root / rel, fmt, keyfile) == opened.to_python()


def test_rotate_host_to_the_key_it_has_says_so_plainly(lab: Lab) -> None:
    """A stranger rotated a host to its own key: "no older key opens none of them" and
    a note of what "the old key" could read, though there was no old key."""
    same = lab.hosts["observer"]
    result = lab.cli("rotate", "host", "observer", "--age", same.public)
    assert result.code == 0, result.err
    assert "the host's key is the same, so no file changed readers" in result.out
    assert "none of them" not in result.out and "the old key" not in result.out + result.err
