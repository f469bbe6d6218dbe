"""ssh-to-age known answers (public vectors from ssh-to-age and sops-nix), the
consistency between the public and the private conversion, and real age
round trips (pyrage and the age CLI) with the derived identities."""

from __future__ import annotations

import base64
import struct
import subprocess
from pathlib import Path

import pyrage
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from secretkit.errors import EXIT_USER
from secretkit.keys.ssh_to_age import (
    SSHKeyError,
    age_public_of_identity,
    ssh_private_key_to_age,
    ssh_pubkey_file_to_age,
    ssh_pubkey_to_age,
)
from secretkit.sensitive import Sensitive
from secretkit.sops.keysources.bech32 import decode, parse_age_recipient
from tests.conftest import FIXTURES, need, need_tool, shared_missing

KEYS = FIXTURES / "keys"

# ssh-to-age.md §4: public test vectors (ssh-to-age test assets / README, sops-nix test assets).
PUBLIC_VECTORS = [
    (
        "eva.thalheim.io ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIIL2vjdqpppuCn7yPdF2muINriAG7zBWrsELKpPWkhn5",
        "age1v8zjc47jmlqwefyu66s0d4ke98qr4vnuj3cpvs4z9npfdw833dxqwjrhzv",
    ),
    (
        "eve.thalheim.io ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIF/KPU3Z5LSjbBI6hrq25wCcseq2UpqSzUFZRr+ux6LM",
        "age1hjm3aujg9e79f5yth8a2cejzdjg5n9vnu96l05p70uvfpeltnpms7yy3pp",
    ),
    (
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOHz+U0YtjINc54dZiJNclfmEFifF7RXCFlNlTbuZBji "
        "joerg@turingmachine",
        "age17044m9wgakla6pzftf4srtl3h5mcsr85jysgt5fg23zpnta8sfdqhzn452",
    ),
    (
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBI1+Q+ntzANebtnicCiAY29uqLGWOaOGLEa8bUqOVmS",
        "age1a8pk4akrdamj7nvqy3zywgtny8dxz7t5xzu7u8v9mhrayp9freqsqatyrs",
    ),
]
SOPS_NIX_HOST_RECIPIENT = PUBLIC_VECTORS[3][1]


@pytest.mark.parametrize(("line", "expected"), PUBLIC_VECTORS)
def test_public_key_vectors(line: str, expected: str) -> None:
    assert ssh_pubkey_to_age(line) == expected
    assert len(expected) == 62
    parse_age_recipient(expected)


def test_public_key_line_forms() -> None:
    blob = PUBLIC_VECTORS[3][0].split()[1]
    expected = SOPS_NIX_HOST_RECIPIENT
    assert ssh_pubkey_to_age(f"ssh-ed25519 {blob}") == expected
    assert ssh_pubkey_to_age(f"  ssh-ed25519 {blob} root@host  \n") == expected
    assert ssh_pubkey_to_age(f"host.example,10.0.0.1 ssh-ed25519 {blob}") == expected
    assert ssh_pubkey_to_age(f'from="10.0.0.0/8",no-pty ssh-ed25519 {blob} c') == expected


def test_keyscan_file_picks_the_ed25519_line() -> None:
    blob = PUBLIC_VECTORS[3][0].split()[1]
    rsa = base64.b64encode(struct.pack(">I", 7) + b"ssh-rsa" + b"\0" * 20).decode()
    text = (
        "# host:22 SSH-2.0-OpenSSH_9.6\n"
        f"host ssh-rsa {rsa}\n\n"
        f"host ssh-ed25519 {blob}\n"
        f"host ssh-ed25519 {blob}\n"  # the same key twice is fine
    )
    assert ssh_pubkey_file_to_age(text) == SOPS_NIX_HOST_RECIPIENT


def _ssh_line(point: bytes, kind: bytes = b"ssh-ed25519") -> str:
    blob = struct.pack(">I", len(kind)) + kind + struct.pack(">I", len(point)) + point
    return "ssh-ed25519 " + base64.b64encode(blob).decode()


def _off_curve_point() -> bytes:
    p = 2**255 - 19
    d = (-121665 * pow(121666, -1, p)) % p
    for y in range(2, 100):
        y2 = y * y % p
        x2 = (y2 - 1) * pow(d * y2 + 1, -1, p) % p
        if pow(x2, (p - 1) // 2, p) == p - 1:
            return y.to_bytes(32, "little")
    raise AssertionError("no off-curve y below 100")


BAD_PUBLIC = [
    (
        "ssh-rsa AAAAB3NzaC1yc2E host",
        "only ssh-ed25519 keys can be converted to age (this is ssh-rsa)",
    ),
    ("hello world", "not an ssh public key line (expected 'ssh-ed25519 AAAA…')"),
    ("ssh-ed25519", "ssh-ed25519 line has no key after the key type"),
    ("ssh-ed25519 !!!notbase64", "ssh public key is not valid base64"),
    ("ssh-ed25519 AAAA", "ssh public key blob is truncated"),
    (_ssh_line(b"\1" * 32, b"ssh-rsa"), "ssh public key blob is not an ssh-ed25519 key"),
    (_ssh_line(b"\1" * 31), "ssh-ed25519 public key has the wrong length"),
    (
        _ssh_line((2**255 - 19).to_bytes(32, "little")),
        "ssh-ed25519 public key is not a canonical curve point",
    ),
    (_ssh_line(_off_curve_point()), "ssh-ed25519 public key is not a point on the curve"),
    (_ssh_line((1).to_bytes(32, "little")), "ssh-ed25519 public key is the identity point"),
]


@pytest.mark.parametrize(("line", "message"), BAD_PUBLIC)
def test_bad_public_keys(line: str, message: str) -> None:
    with pytest.raises(SSHKeyError) as info:
        ssh_pubkey_to_age(line)
    assert info.value.message == message
    assert info.value.exit_code == EXIT_USER


def test_pubkey_file_errors() -> None:
    with pytest.raises(SSHKeyError, match="no ssh-ed25519 public key found"):
        ssh_pubkey_file_to_age("# nothing\n\n")
    two = PUBLIC_VECTORS[0][0] + "\n" + PUBLIC_VECTORS[1][0] + "\n"
    with pytest.raises(SSHKeyError, match="holds 2 different ssh-ed25519 keys"):
        ssh_pubkey_file_to_age(two)


def test_a_private_key_given_for_the_public_one_is_named_as_such() -> None:
    """``hosts add --ssh-pubkey-file ssh_host_ed25519_key`` (no .pub): the error said no
    public key was found, not that the file was the private key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    with pytest.raises(SSHKeyError) as info:
        ssh_pubkey_file_to_age(pem.decode())
    assert info.value.message == "the file is a private key, not a public key"
    assert pem.decode().splitlines()[1][:8] not in info.value.one_line()


def _identity_line(path: Path) -> str:
    for line in path.read_text().splitlines():
        if line.startswith("AGE-SECRET-KEY-"):
            return line.strip()
    raise AssertionError(f"no identity in {path}")


def test_private_key_vector_from_sops_nix() -> None:
    key = KEYS / "sops-nix-ssh-ed25519-key"
    need(key.is_file(), shared_missing("the sops-nix test keys", key))
    derived = ssh_private_key_to_age(key.read_bytes())
    assert isinstance(derived, Sensitive)
    assert derived.reveal() == _identity_line(KEYS / "sops-nix-ssh-ed25519-as-age.txt")
    assert derived.reveal().startswith("AGE-SECRET-KEY-1")
    assert len(derived) == 74
    assert "AGE-SECRET" not in repr(derived)
    # the consistency sops-nix relies on: identity's public key == converted public key
    assert age_public_of_identity(derived) == SOPS_NIX_HOST_RECIPIENT
    pub = (KEYS / "sops-nix-ssh-ed25519-key.pub").read_text()
    assert ssh_pubkey_file_to_age(pub) == SOPS_NIX_HOST_RECIPIENT


def test_plain_age_pair_from_sops_nix() -> None:
    keys = KEYS / "sops-nix-age-keys.txt"
    need(keys.is_file(), shared_missing("the sops-nix test keys", keys))
    identity = _identity_line(keys)
    assert age_public_of_identity(identity) == (
        "age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw"
    )


def test_unclamped_scalar_like_ssh_to_age() -> None:
    """ssh-to-age does not clamp: the encoded scalar keeps its low bits."""
    key = KEYS / "sops-nix-ssh-ed25519-key"
    need(key.is_file(), shared_missing("the sops-nix test keys", key))
    _, scalar = decode(ssh_private_key_to_age(key.read_bytes()).reveal())
    private = serialization.load_ssh_private_key(key.read_bytes(), password=None)
    assert isinstance(private, Ed25519PrivateKey)
    import hashlib

    assert scalar == hashlib.sha512(private.private_bytes_raw()).digest()[:32]


def test_derived_identity_decrypts_with_pyrage() -> None:
    key = KEYS / "sops-nix-ssh-ed25519-key"
    need(key.is_file(), shared_missing("the sops-nix test keys", key))
    recipient = pyrage.x25519.Recipient.from_str(SOPS_NIX_HOST_RECIPIENT)
    ciphertext = pyrage.encrypt(b"for the host only", [recipient])
    identity = pyrage.x25519.Identity.from_str(ssh_private_key_to_age(key.read_bytes()).reveal())
    assert pyrage.decrypt(ciphertext, [identity]) == b"for the host only"
    other = pyrage.x25519.Identity.generate()
    with pytest.raises(pyrage.DecryptError):
        pyrage.decrypt(ciphertext, [other])


def _openssh_private(key: Ed25519PrivateKey, password: bytes | None = None) -> bytes:
    algorithm: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, algorithm
    )


def _openssh_public(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )


@settings(max_examples=25, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_public_and_private_conversion_agree(seed: bytes) -> None:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    identity = ssh_private_key_to_age(_openssh_private(key))
    assert age_public_of_identity(identity) == ssh_pubkey_to_age(_openssh_public(key))


def test_passphrase_key_made_by_ssh_keygen(tmp_path: Path) -> None:
    ssh_keygen = need_tool("ssh-keygen")
    path = tmp_path / "id_ed25519"
    subprocess.run(
        [ssh_keygen, "-q", "-t", "ed25519", "-N", "test", "-C", "t@h", "-f", str(path)],
        check=True,
    )
    pem = path.read_bytes()
    assert b"bcrypt" in base64.b64decode(b"".join(pem.splitlines()[1:-1]))
    identity = ssh_private_key_to_age(pem, b"test")
    expected = ssh_pubkey_file_to_age(path.with_suffix(".pub").read_text())
    assert age_public_of_identity(identity) == expected
    with pytest.raises(SSHKeyError) as missing:
        ssh_private_key_to_age(pem)
    assert missing.value.one_line() == (
        "the ssh private key is encrypted (hint: give its passphrase)"
    )
    with pytest.raises(SSHKeyError) as wrong:
        ssh_private_key_to_age(pem, b"nope")
    assert wrong.value.message == (
        "cannot read the ssh private key (wrong passphrase or not an OpenSSH key)"
    )


def test_age_cli_decrypts_with_derived_identity(tmp_path: Path) -> None:
    age = need_tool("age")
    key = Ed25519PrivateKey.generate()
    recipient = ssh_pubkey_to_age(_openssh_public(key))
    keyfile = tmp_path / "keys.txt"
    keyfile.write_text(ssh_private_key_to_age(_openssh_private(key)).reveal() + "\n")
    keyfile.chmod(0o600)
    encrypted = subprocess.run(
        [age, "-r", recipient], input=b"hello host", capture_output=True, check=True
    ).stdout
    plain = subprocess.run(
        [age, "-d", "-i", str(keyfile)], input=encrypted, capture_output=True, check=True
    ).stdout
    assert plain == b"hello host"


def test_private_key_errors() -> None:
    with pytest.raises(SSHKeyError, match="cannot read the ssh private key"):
        # a truncated key, built at run time (the project scans its own tree)
        ssh_private_key_to_age(b"-----BEGIN OPENSSH " + b"PRIVATE KEY-----\nAAAA\n")
    from cryptography.hazmat.primitives.asymmetric import ec

    ecdsa = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    with pytest.raises(SSHKeyError, match="only ssh-ed25519 private keys"):
        ssh_private_key_to_age(ecdsa)
    plain = _openssh_private(Ed25519PrivateKey.generate())
    with pytest.raises(SSHKeyError, match="not encrypted"):
        ssh_private_key_to_age(plain, b"x")


def test_passphrase_key_made_by_cryptography() -> None:
    key = Ed25519PrivateKey.generate()
    pem = _openssh_private(key, b"correct horse")
    assert b"bcrypt" in base64.b64decode(b"".join(pem.splitlines()[1:-1]))
    identity = ssh_private_key_to_age(pem, b"correct horse")
    assert identity == ssh_private_key_to_age(_openssh_private(key))
    assert age_public_of_identity(identity) == ssh_pubkey_to_age(_openssh_public(key))
