"""Key sources (age, pgp), Shamir sharing and identity lookup."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyrage import x25519

from secretkit.errors import ConfigError, IntegrityError, UserError
from secretkit.sops.identities import load_identities
from secretkit.sops.keysources import DECRYPTION_ORDER, KEY_SOURCES, shamir
from secretkit.sops.keysources.age import normalize_recipient
from tests.conftest import FIXTURES, need, need_tool, shared_missing


def _identity() -> tuple[str, str]:
    identity = x25519.Identity.generate()
    return str(identity), str(identity.to_public())


def test_registry_is_a_literal_dict_of_protocol_implementations() -> None:
    assert list(KEY_SOURCES) == ["age", "pgp"]
    for kind, source in KEY_SOURCES.items():
        assert source.kind == kind
        for method in ("parse_recipient", "wrap", "unwrap"):
            assert callable(getattr(source, method))
    assert DECRYPTION_ORDER == ("age", "pgp")


def test_age_wrap_is_armored_single_recipient_ending_in_newline() -> None:
    secret, public = _identity()
    key = os.urandom(32)
    entry = KEY_SOURCES["age"].wrap(public, key)
    assert entry.kind == "age"
    assert entry.fields["recipient"] == public
    assert entry.enc.startswith("-----BEGIN AGE ENCRYPTED FILE-----\n")
    assert entry.enc.endswith("-----END AGE ENCRYPTED FILE-----\n")
    assert all(len(line) <= 64 for line in entry.enc.splitlines())
    ids = load_identities({"SOPS_AGE_KEY": secret, "HOME": "/nonexistent"})
    assert KEY_SOURCES["age"].unwrap(entry, ids) == key
    other = load_identities({"SOPS_AGE_KEY": _identity()[0], "HOME": "/nonexistent"})
    assert KEY_SOURCES["age"].unwrap(entry, other) is None


def test_age_armor_opens_with_the_age_cli(tmp_path: Path) -> None:
    age = need_tool("age")
    secret, public = _identity()
    key = os.urandom(33)
    entry = KEY_SOURCES["age"].wrap(public, key)
    keyfile = tmp_path / "k.txt"
    keyfile.write_text(secret + "\n")
    out = subprocess.run(
        [age, "-d", "-i", str(keyfile)], input=entry.enc.encode(), capture_output=True, check=True
    )
    assert out.stdout == key


def test_ssh_ed25519_recipient_round_trip(sops_fixtures: Path) -> None:
    pub = (sops_fixtures / "keys/sops-nix-ssh-ed25519-key.pub").read_text()
    assert normalize_recipient(pub) == " ".join(pub.split()[:2])
    key = os.urandom(32)
    entry = KEY_SOURCES["age"].wrap(pub, key)
    assert entry.fields["recipient"] == " ".join(pub.split()[:2])
    ids = load_identities(
        {
            "SOPS_AGE_SSH_PRIVATE_KEY_FILE": str(sops_fixtures / "keys/sops-nix-ssh-ed25519-key"),
            "HOME": "/nonexistent",
        }
    )
    assert ids.recipients == [" ".join(pub.split()[:2])]
    assert KEY_SOURCES["age"].unwrap(entry, ids) == key


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("age1notarecipient", "not a valid age recipient: age1notarecipient"),
        ("ssh-ed25519 AAAAbroken", "not a valid age recipient: ssh-ed25519 AAAAbroken"),
        ("age1pq1" + "q" * 80, "unsupported age recipient"),
    ],
)
def test_bad_age_recipients(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        KEY_SOURCES["age"].parse_recipient(text)
    assert message in info.value.message


def test_pgp_fingerprint_validation() -> None:
    fp = "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4"
    assert KEY_SOURCES["pgp"].parse_recipient(f" {fp} ") == fp
    with pytest.raises(ConfigError, match="not a PGP fingerprint"):
        KEY_SOURCES["pgp"].parse_recipient("not-hex")


@pytest.fixture
def gnupg() -> Iterator[Callable[..., None]]:
    """The test's own GNUPGHOME (from conftest), keys imported on demand; agent stopped after."""
    need_tool("gpg")
    home = Path(os.environ["GNUPGHOME"])
    home.mkdir(mode=0o700, parents=True, exist_ok=True)

    def import_keys(*keys: Path) -> None:
        for key in keys:
            subprocess.run(
                ["gpg", "--batch", "--import", str(key)], capture_output=True, check=True
            )

    yield import_keys
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], capture_output=True, check=False)


def test_pgp_wrap_and_unwrap_with_the_fixture_key(
    gnupg: Callable[..., None], sops_fixtures: Path
) -> None:
    gnupg(sops_fixtures / "keys/sops-functional-tests-key.asc")
    fp = "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4"
    key = os.urandom(32)
    entry = KEY_SOURCES["pgp"].wrap(fp, key)
    assert entry.fields["fp"] == fp
    assert entry.enc.startswith("-----BEGIN PGP MESSAGE-----")
    assert not entry.enc.endswith("\n")
    assert entry.fields["created_at"].endswith("Z")
    ids = load_identities({"HOME": "/nonexistent"})
    assert ids.gpg
    assert KEY_SOURCES["pgp"].unwrap(entry, ids) == key


def test_pgp_wrap_unknown_key_is_a_user_error(gnupg: Callable[..., None]) -> None:
    gnupg()
    with pytest.raises(UserError, match="gpg cannot encrypt for PGP key"):
        KEY_SOURCES["pgp"].wrap("0123456789ABCDEF0123456789ABCDEF01234567", os.urandom(32))


# --- Shamir ------------------------------------------------------------------------
def test_gf256_known_answers() -> None:
    # x^8+x^4+x^3+x+1 field (HashiCorp's shamir tests): 3*7 = 9, 6/3 = 2
    assert shamir.mult(3, 7) == 9
    assert shamir.mult(3, 0) == 0
    assert shamir.div(6, 3) == 2
    assert shamir.div(0, 7) == 0
    assert shamir.div(3, 3) == 1
    assert shamir.mult(0x57, 0x83) == 0xC1  # FIPS-197 section 4.2 example


def test_shamir_split_combine_every_subset() -> None:
    secret = os.urandom(32)
    shares = shamir.split(secret, 3, 2)
    assert [len(share) for share in shares] == [33, 33, 33]
    assert len({share[-1] for share in shares}) == 3
    assert all(share[-1] != 0 for share in shares)
    for i in range(3):
        for j in range(3):
            if i != j:
                assert shamir.combine([shares[i], shares[j]]) == secret
    assert shamir.combine(shares) == secret
    five = shamir.split(secret, 5, 3)
    assert shamir.combine(five[1:4]) == secret
    assert shamir.combine(five[:2]) != secret  # below threshold: garbage, not the secret


def test_shamir_rejects_bad_input() -> None:
    shares = shamir.split(b"k" * 32, 3, 2)
    with pytest.raises(IntegrityError):
        shamir.combine(shares[:1])
    with pytest.raises(IntegrityError):
        shamir.combine([shares[0], shares[0]])
    with pytest.raises(IntegrityError):
        shamir.combine([shares[0], shares[1][:-2]])
    with pytest.raises(UserError):
        shamir.split(b"k", 2, 3)
    with pytest.raises(UserError):
        shamir.split(b"k", 2, 1)


# --- identities --------------------------------------------------------------------
def test_all_identity_sources_are_combined(tmp_path: Path, sops_fixtures: Path) -> None:
    a_secret, a_public = _identity()
    b_secret, b_public = _identity()
    c_secret, c_public = _identity()
    d_secret, d_public = _identity()
    key_file = tmp_path / "keys.txt"
    key_file.write_text(f"# created: now\n# public key: {b_public}\n{b_secret}\n")
    config = tmp_path / "config"
    (config / "sops/age").mkdir(parents=True)
    (config / "sops/age/keys.txt").write_text(f"\n{c_secret}\n")
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    shutil.copy(sops_fixtures / "keys/sops-nix-ssh-ed25519-key", home / ".ssh/id_ed25519")
    ids = load_identities(
        {
            "SOPS_AGE_KEY": f"{a_secret} {d_secret}",
            "SOPS_AGE_KEY_FILE": str(key_file),
            "XDG_CONFIG_HOME": str(config),
            "HOME": str(home),
        }
    )
    ssh_pub = " ".join(
        (sops_fixtures / "keys/sops-nix-ssh-ed25519-key.pub").read_text().split()[:2]
    )
    assert ids.recipients == [ssh_pub, a_public, d_public, b_public, c_public]
    shown = repr(ids)
    assert a_public in shown
    for secret in (a_secret, b_secret, c_secret, d_secret):
        assert secret not in shown
        assert secret[20:40] not in shown


def test_default_key_file_is_under_home_config(tmp_path: Path) -> None:
    secret, public = _identity()
    home = tmp_path / "h"
    (home / ".config/sops/age").mkdir(parents=True)
    (home / ".config/sops/age/keys.txt").write_text(secret + "\n")
    assert load_identities({"HOME": str(home)}).recipients == [public]


def test_key_file_error_names_file_and_line_never_the_key(tmp_path: Path) -> None:
    secret, _ = _identity()
    bad = tmp_path / "keys.txt"
    bad.write_text(f"# comment\n{secret}\n{secret[:-3]}zzz\n")
    with pytest.raises(UserError) as info:
        load_identities({"SOPS_AGE_KEY_FILE": str(bad), "HOME": "/nonexistent"})
    assert info.value.message == f"{bad} line 3: not an age identity"
    assert secret[:-3] not in info.value.one_line()


def test_missing_key_file_and_encrypted_key_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        load_identities({"SOPS_AGE_KEY_FILE": str(tmp_path / "nope"), "HOME": "/nonexistent"})
    enc = tmp_path / "enc.txt"
    enc.write_text("-----BEGIN AGE ENCRYPTED FILE-----\nabc\n-----END AGE ENCRYPTED FILE-----\n")
    with pytest.raises(UserError, match="passphrase-encrypted"):
        load_identities({"SOPS_AGE_KEY_FILE": str(enc), "HOME": "/nonexistent"})


def test_bad_explicit_ssh_key_is_an_error_bad_default_is_skipped(tmp_path: Path) -> None:
    junk = tmp_path / "id"
    junk.write_text("not a key\n")
    with pytest.raises(UserError, match="SOPS_AGE_SSH_PRIVATE_KEY_FILE"):
        load_identities({"SOPS_AGE_SSH_PRIVATE_KEY_FILE": str(junk), "HOME": "/nonexistent"})
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh/id_ed25519").write_text("not a key\n")
    assert load_identities({"HOME": str(home)}).recipients == []


def test_fixture_key_files_parse() -> None:
    need(FIXTURES.is_dir(), shared_missing("files written by the real sops binary", FIXTURES))
    ids = load_identities(
        {"SOPS_AGE_KEY_FILE": str(FIXTURES / "keys/sops-nix-age-keys.txt"), "HOME": "/x"}
    )
    assert ids.recipients == ["age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw"]


@settings(max_examples=60, deadline=None)
@given(
    secret=st.binary(min_size=1, max_size=40),
    parts=st.integers(min_value=2, max_value=7),
    data=st.data(),
)
def test_shamir_any_threshold_subset_recovers(
    secret: bytes, parts: int, data: st.DataObject
) -> None:
    threshold = data.draw(st.integers(min_value=2, max_value=parts))
    shares = shamir.split(secret, parts, threshold)
    chosen = data.draw(st.permutations(shares))[:threshold]
    assert shamir.combine(list(chosen)) == secret
