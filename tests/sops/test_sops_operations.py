"""The high-level sops API: every real-sops fixture decrypts; our own files round trip;
updatekeys keeps the data key, rotate replaces it; Shamir key groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.errors import IntegrityError, UserError
from secretkit.sensitive import Sensitive
from secretkit.sops import document, operations
from secretkit.sops.config import parse_config
from secretkit.sops.identities import load_identities
from tests.conftest import FIXTURES, need, shared_missing
from tests.sops.keys_support import (
    age_key,
    expected,
    fixture_age_keyfile,
    fixture_format,
    fixture_gnupghome,
    manifest,
)

__all__ = ["fixture_gnupghome"]  # a session fixture used below

FIXTURE_IDS = [str(entry["file"]) for entry in manifest()] or ["<no fixtures>"]


def _entry(name: str) -> dict[str, object]:
    need(FIXTURES.is_dir(), shared_missing("files written by the real sops binary", FIXTURES))
    return next(entry for entry in manifest() if entry["file"] == name)


@pytest.mark.parametrize("name", FIXTURE_IDS)
def test_every_real_sops_fixture_decrypts_with_its_own_keys(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    entry = _entry(name)
    keyfile = fixture_age_keyfile(entry, tmp_path)
    if keyfile is not None:
        monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(keyfile))
    if entry.get("pgp_keys"):
        monkeypatch.setenv("GNUPGHOME", str(request.getfixturevalue("fixture_gnupghome")))
    fmt = fixture_format(entry)
    data = (FIXTURES / str(entry["file"])).read_bytes()
    want = expected(entry)
    identities = load_identities()
    sops = document.load_encrypted(data, fmt)
    assert operations.data_key_of(sops, identities).hex() == want["data_key_hex"]
    if entry.get("expect_mac") is False:
        with pytest.raises(IntegrityError):
            operations.decrypt_bytes(data, fmt, identities)
        return
    plain = operations.decrypt_bytes(data, fmt, identities)
    if fmt == "binary":
        assert document.dump_plain(plain) == str(want["plaintext"]).encode("utf-8")
    else:
        assert plain.to_python() == want["plaintext"]


def test_fixture_with_an_age_key_only_through_ssh_to_age_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sops-nix/secrets.yaml opens with the host key converted by ssh-to-age alone."""
    entry = _entry("sops-nix/secrets.yaml")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(FIXTURES / "keys/sops-nix-ssh-ed25519-as-age.txt"))
    data = (FIXTURES / "sops-nix/secrets.yaml").read_bytes()
    plain = operations.decrypt_bytes(data, "yaml", load_identities())
    assert plain.to_python() == expected(entry)["plaintext"]


def test_no_identity_names_the_file_and_its_public_recipients(sops_fixtures: Path) -> None:
    data = (sops_fixtures / "humphd-sops-age/secret.enc.yaml").read_bytes()
    with pytest.raises(IntegrityError) as info:
        operations.decrypt_bytes(data, "yaml", load_identities({}), source="secret.enc.yaml")
    message = info.value.message
    assert message.startswith("no identity decrypts secret.enc.yaml (recipients: age1je6kjhzuhdjy")
    assert info.value.exit_code == 4


# --- our own files -----------------------------------------------------------------
def _rule(tmp_path: Path, body: str, file: str = "secrets/a.yaml") -> operations.CreationRule:
    config = parse_config(body.encode(), tmp_path / ".sops.yaml")
    rule = config.rule_for(tmp_path / file)
    assert rule is not None
    return rule


def _ids(*keys: object) -> operations.Identities:
    return load_identities({"SOPS_AGE_KEY": "\n".join(k.secret for k in keys), "HOME": "/x"})  # type: ignore[attr-defined]


SAMPLE = {
    "yaml": b"db:\n    password: hunter2-not-real\n    port: 5432\nflag: true\n"
    b"list:\n    - a\n    - b\n",
    "json": b'{\n\t"token": "not-a-real-token",\n\t"n": 1.5\n}\n',
    "dotenv": b"API_KEY=not-real\nOTHER=two words\n",
    "binary": b"\x00\x01binary\npayload\n",
}


@pytest.mark.parametrize("fmt", ["yaml", "json", "dotenv", "binary"])
def test_encrypt_new_round_trip_several_recipients(tmp_path: Path, fmt: str) -> None:
    a, b = age_key(), age_key()
    rule = _rule(tmp_path, f"creation_rules:\n  - age: {a.public},{b.public}\n")
    plain = document.load_plain(SAMPLE[fmt], fmt)
    data = operations.encrypt_new(plain, rule)
    sops = document.load_encrypted(data, fmt)
    assert operations.recipients_of(sops) == [[a.public, b.public]]
    assert sops.metadata.version == document.SOPS_VERSION
    for who in (a, b):
        again = operations.decrypt_bytes(data, fmt, _ids(who))
        assert document.dump_plain(again) == document.dump_plain(plain)
    with pytest.raises(IntegrityError, match="no identity decrypts"):
        operations.decrypt_bytes(data, fmt, _ids(age_key()))


def test_no_recipients_is_a_user_error(tmp_path: Path) -> None:
    rule = _rule(tmp_path, "creation_rules:\n  - path_regex: x\n", "x")
    with pytest.raises(UserError, match="names no recipients"):
        operations.encrypt_new(document.load_plain(b"a: b\n", "yaml"), rule)


def test_set_values_creates_then_keeps_unchanged_ciphertexts(tmp_path: Path) -> None:
    a = age_key()
    rule = _rule(tmp_path, f"creation_rules:\n  - age: {a.public}\n")
    first = operations.set_values(
        None, "yaml", {("app", "token"): Sensitive("first-value")}, rule=rule, identities=_ids(a)
    )
    second = operations.set_values(
        first, "yaml", {("app", "other"): "second-value"}, rule=rule, identities=_ids(a)
    )
    plain = operations.decrypt_bytes(second, "yaml", _ids(a))
    expected = {"app": {"token": "first-value", "other": "second-value"}}  # secretkit: allow
    assert plain.to_python() == expected
    token_line = next(line for line in first.splitlines() if b"token:" in line)
    assert token_line in second.splitlines()


def test_updatekeys_keeps_data_key_values_mac_and_lastmodified(tmp_path: Path) -> None:
    a, b, c = age_key(), age_key(), age_key()
    before = _rule(tmp_path, f"creation_rules:\n  - age: [{a.public}, {b.public}]\n")
    after = _rule(tmp_path, f"creation_rules:\n  - age: [{a.public}, {c.public}]\n")
    data = operations.encrypt_new(document.load_plain(SAMPLE["yaml"], "yaml"), before)
    assert operations.updatekeys_bytes(data, "yaml", before, _ids(a)) is None
    updated = operations.updatekeys_bytes(data, "yaml", after, _ids(a))
    assert updated is not None
    old, new = document.load_encrypted(data, "yaml"), document.load_encrypted(updated, "yaml")
    assert operations.recipients_of(new) == [[a.public, c.public]]
    assert operations.data_key_of(new, _ids(c)) == operations.data_key_of(old, _ids(a))
    assert (new.metadata.mac, new.metadata.lastmodified) == (
        old.metadata.mac,
        old.metadata.lastmodified,
    )
    assert [line for line in updated.splitlines() if b"ENC[" in line] == [
        line for line in data.splitlines() if b"ENC[" in line
    ]
    with pytest.raises(IntegrityError):
        operations.data_key_of(new, _ids(b))


def test_rotate_changes_the_data_key_and_keeps_values(tmp_path: Path) -> None:
    a = age_key()
    rule = _rule(tmp_path, f"creation_rules:\n  - age: {a.public}\n")
    plain = document.load_plain(SAMPLE["yaml"], "yaml")
    data = operations.encrypt_new(plain, rule)
    rotated = operations.rotate_bytes(data, "yaml", _ids(a))
    old, new = document.load_encrypted(data, "yaml"), document.load_encrypted(rotated, "yaml")
    assert operations.data_key_of(old, _ids(a)) != operations.data_key_of(new, _ids(a))
    assert operations.recipients_of(new) == operations.recipients_of(old)
    assert operations.decrypt_bytes(rotated, "yaml", _ids(a)).to_python() == plain.to_python()
    assert new.metadata.mac != old.metadata.mac  # re-encrypted under the new key


def test_the_loaded_entry_points_leave_the_parsed_file_reusable(tmp_path: Path) -> None:
    # rotate host parses each file once (for its plan) and re-keys that parse: the
    # parsed file must not be changed by the re-key, and the bytes must be the same
    # as through the bytes entry points.
    a, b = age_key(), age_key()
    only_a = _rule(tmp_path, f"creation_rules:\n  - age: {a.public}\n")
    both = _rule(tmp_path, f"creation_rules:\n  - age: [{a.public}, {b.public}]\n")
    plain = document.load_plain(SAMPLE["yaml"], "yaml")
    data = operations.encrypt_new(plain, only_a)
    loaded = document.load_encrypted(data, "yaml")
    for _ in range(2):  # the second round sees the same, unchanged parse
        updated = operations.updatekeys_loaded(loaded, both, _ids(a))
        assert updated is not None  # the age stanzas differ per run; values do not
        via_bytes = operations.updatekeys_bytes(data, "yaml", both, _ids(a))
        assert via_bytes is not None
        assert [x for x in updated.splitlines() if b"ENC[" in x] == [
            x for x in via_bytes.splitlines() if b"ENC[" in x
        ]
        assert operations.decrypt_bytes(updated, "yaml", _ids(b)).to_python() == plain.to_python()
        rotated = operations.rotate_loaded(loaded, _ids(a), both)
        assert operations.recipients_of(document.load_encrypted(rotated, "yaml")) == [
            [a.public, b.public]
        ]
        assert operations.decrypt_bytes(rotated, "yaml", _ids(b)).to_python() == plain.to_python()
        assert document.dump(loaded) == data
        assert operations.recipients_of(loaded) == [[a.public]]


def test_removed_recipient_cannot_decrypt_after_updatekeys_and_rotate(tmp_path: Path) -> None:
    a, b = age_key(), age_key()
    both = _rule(tmp_path, f"creation_rules:\n  - age: [{a.public}, {b.public}]\n")
    only_a = _rule(tmp_path, f"creation_rules:\n  - age: [{a.public}]\n")
    data = operations.encrypt_new(document.load_plain(SAMPLE["yaml"], "yaml"), both)
    old_key = operations.data_key_of(document.load_encrypted(data, "yaml"), _ids(b))
    updated = operations.updatekeys_bytes(data, "yaml", only_a, _ids(a))
    assert updated is not None
    rotated = operations.rotate_bytes(updated, "yaml", _ids(a))
    with pytest.raises(IntegrityError, match="no identity decrypts"):
        operations.decrypt_bytes(rotated, "yaml", _ids(b))
    # the old data key (which b may have kept) no longer opens the values
    with pytest.raises(IntegrityError):
        document.decrypt(document.load_encrypted(rotated, "yaml"), old_key)


def test_shamir_two_of_three_groups(tmp_path: Path) -> None:
    a, b, c = age_key(), age_key(), age_key()
    rule = _rule(
        tmp_path,
        "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n"
        f"      - age: [{a.public}]\n      - age: [{b.public}]\n      - age: [{c.public}]\n",
    )
    plain = document.load_plain(SAMPLE["yaml"], "yaml")
    data = operations.encrypt_new(plain, rule)
    sops = document.load_encrypted(data, "yaml")
    assert sops.metadata.shamir_threshold == 2
    assert len(sops.metadata.key_groups) == 3
    for pair in ((a, b), (a, c), (b, c), (a, b, c)):
        assert operations.decrypt_bytes(data, "yaml", _ids(*pair)).to_python() == plain.to_python()
    for single in (a, b, c):
        with pytest.raises(IntegrityError, match="1 of the 2 key groups needed"):
            operations.decrypt_bytes(data, "yaml", _ids(single))


def test_tree_path_parsing() -> None:
    assert operations.parse_tree_path('["a"]["b c"][0]') == ["a", "b c", 0]
    assert operations.parse_tree_path("['x']") == ["x"]
    with pytest.raises(operations.UsageError):
        operations.parse_tree_path('["a"')
    with pytest.raises(operations.UsageError):
        operations.parse_tree_path("")


def test_pgp_and_age_recipients_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    need(FIXTURES.is_dir(), shared_missing("files written by the real sops binary", FIXTURES))
    monkeypatch.setenv("GNUPGHOME", str(request.getfixturevalue("fixture_gnupghome")))
    fp = "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4"
    a = age_key()
    rule = _rule(tmp_path, f"creation_rules:\n  - age: {a.public}\n    pgp: {fp}\n")
    plain = document.load_plain(SAMPLE["yaml"], "yaml")
    data = operations.encrypt_new(plain, rule)
    sops = document.load_encrypted(data, "yaml")
    assert operations.recipients_of(sops) == [[a.public, fp]]
    only_gpg = load_identities({"HOME": "/x"})
    assert only_gpg.recipients == [] and only_gpg.gpg
    assert operations.decrypt_bytes(data, "yaml", only_gpg).to_python() == plain.to_python()
    assert operations.data_key_of(sops, only_gpg) == operations.data_key_of(sops, _ids(a))
