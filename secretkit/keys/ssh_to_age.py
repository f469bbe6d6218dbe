"""ssh-ed25519 keys → age X25519 keys, byte for byte as Mic92/ssh-to-age does it.

Public API::

    ssh_pubkey_to_age(line: str) -> str
        # one 'ssh-ed25519 AAAA…' line: authorized_keys (options allowed) or
        # known_hosts / ssh-keyscan form ('host ssh-ed25519 AAAA…') → 'age1…'
    ssh_pubkey_file_to_age(text: str) -> str
        # a .pub file or keyscan output: the single ed25519 key in it → 'age1…'
        # (comments, blank lines and other key types are skipped)
    ssh_private_key_to_age(pem: bytes, passphrase: bytes | None = None) -> Sensitive[str]
        # OpenSSH ed25519 private key (plain, or bcrypt-KDF encrypted) →
        # 'AGE-SECRET-KEY-1…' (unclamped scalar, upper case, like ssh-to-age)
    age_public_of_identity(identity: str | Sensitive[str]) -> str
        # 'AGE-SECRET-KEY-1…' → its 'age1…' recipient

Public keys: the 32-byte Edwards point is checked (canonical ``y < p``, on the
curve, not the identity) and mapped to Montgomery ``u = (1+y)/(1-y) mod p``.
Private keys: the X25519 scalar is ``SHA-512(seed)[:32]``, deliberately not
clamped (X25519 clamps when it uses it, so the identity is the same either way,
but the string differs and we want ssh-to-age's string).  Errors never quote the
key material: messages name the problem only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct

from secretkit.errors import UserError
from secretkit.sensitive import Sensitive
from secretkit.sops.keysources.bech32 import age_identity, age_recipient, decode

_P = 2**255 - 19
_D = (-121665 * pow(121666, -1, _P)) % _P
_KEY_TYPE = "ssh-ed25519"
_OTHER_TYPES = (
    "ssh-rsa",
    "ssh-dss",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)


class SSHKeyError(UserError):
    """A key that cannot be converted; the message never contains key material."""


def _read_string(blob: bytes, offset: int) -> tuple[bytes, int]:
    if offset + 4 > len(blob):
        raise SSHKeyError("ssh public key blob is truncated")
    (length,) = struct.unpack(">I", blob[offset : offset + 4])
    end = offset + 4 + length
    if end > len(blob):
        raise SSHKeyError("ssh public key blob is truncated")
    return blob[offset + 4 : end], end


def _edwards_to_montgomery(point: bytes) -> bytes:
    y = int.from_bytes(point, "little") & ((1 << 255) - 1)
    sign = point[31] >> 7
    if y >= _P:
        raise SSHKeyError("ssh-ed25519 public key is not a canonical curve point")
    y2 = y * y % _P
    x2 = (y2 - 1) * pow(_D * y2 + 1, -1, _P) % _P
    if x2 != 0 and pow(x2, (_P - 1) // 2, _P) != 1:
        raise SSHKeyError("ssh-ed25519 public key is not a point on the curve")
    if x2 == 0 and sign:
        raise SSHKeyError("ssh-ed25519 public key is not a canonical curve point")
    if y == 1:
        raise SSHKeyError("ssh-ed25519 public key is the identity point")
    u = (1 + y) * pow(1 - y, -1, _P) % _P
    return u.to_bytes(32, "little")


def _blob_to_age(blob_b64: str) -> str:
    try:
        blob = base64.b64decode(blob_b64, validate=True)
    except (binascii.Error, ValueError):
        raise SSHKeyError("ssh public key is not valid base64") from None
    kind, offset = _read_string(blob, 0)
    if kind != _KEY_TYPE.encode():
        raise SSHKeyError("ssh public key blob is not an ssh-ed25519 key")
    point, offset = _read_string(blob, offset)
    if len(point) != 32 or offset != len(blob):
        raise SSHKeyError("ssh-ed25519 public key has the wrong length")
    return age_recipient(_edwards_to_montgomery(point))


def ssh_pubkey_to_age(line: str) -> str:
    """Convert one ``ssh-ed25519 AAAA…`` line (any of the usual forms) to ``age1…``."""
    fields = line.strip().split()
    for i, field in enumerate(fields):
        if field == _KEY_TYPE:
            if i + 1 >= len(fields):
                raise SSHKeyError("ssh-ed25519 line has no key after the key type")
            return _blob_to_age(fields[i + 1])
    for field in fields:
        if field in _OTHER_TYPES:
            raise SSHKeyError(
                f"only ssh-ed25519 keys can be converted to age (this is {field})",
                hint="use the host's /etc/ssh/ssh_host_ed25519_key.pub",
            )
    raise SSHKeyError(
        "not an ssh public key line (expected 'ssh-ed25519 AAAA…')",
        hint="pass the content of /etc/ssh/ssh_host_ed25519_key.pub or an ssh-keyscan line",
    )


def ssh_pubkey_file_to_age(text: str) -> str:
    """The ``age1…`` of the one ed25519 key in a ``.pub`` file or keyscan output."""
    found: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if _KEY_TYPE not in stripped.split():
            continue
        recipient = ssh_pubkey_to_age(stripped)
        if recipient not in found:
            found.append(recipient)
    if not found and "PRIVATE KEY-----" in text:
        # (the message names no part of it: only that it is a private key)
        raise SSHKeyError(
            "the file is a private key, not a public key",
            hint="give its .pub (ssh_host_ed25519_key.pub), and keep the private key off "
            "the repository",
        )
    if not found:
        raise SSHKeyError(
            "no ssh-ed25519 public key found in the file",
            hint="use /etc/ssh/ssh_host_ed25519_key.pub or `ssh-keyscan -t ed25519 HOST`",
        )
    if len(found) > 1:
        raise SSHKeyError(
            f"the file holds {len(found)} different ssh-ed25519 keys; expected one",
            hint="keep only the host's key line in the file",
        )
    return found[0]


def ssh_private_key_to_age(pem: bytes, passphrase: bytes | None = None) -> Sensitive[str]:
    """``AGE-SECRET-KEY-1…`` for an OpenSSH ed25519 private key (as ssh-to-age)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_ssh_private_key(pem, password=passphrase)
    except TypeError:
        # cryptography: "Password was not given but private key is encrypted" and the reverse
        if passphrase is None:
            raise SSHKeyError(
                "the ssh private key is encrypted", hint="give its passphrase"
            ) from None
        raise SSHKeyError("the ssh private key is not encrypted; drop the passphrase") from None
    except UnsupportedAlgorithm:
        raise SSHKeyError(
            "the ssh private key uses an unsupported cipher or KDF",
            hint="only aes256-ctr/bcrypt protected keys can be read",
        ) from None
    except ValueError:
        raise SSHKeyError(
            "cannot read the ssh private key (wrong passphrase or not an OpenSSH key)"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SSHKeyError("only ssh-ed25519 private keys can be converted to age")
    seed = key.private_bytes_raw()
    scalar = hashlib.sha512(seed).digest()[:32]
    return Sensitive(age_identity(scalar))


def age_public_of_identity(identity: str | Sensitive[str]) -> str:
    """The ``age1…`` recipient of an ``AGE-SECRET-KEY-1…`` identity."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    raw = identity.reveal() if isinstance(identity, Sensitive) else identity
    hrp, scalar = decode(raw.strip())
    if hrp != "age-secret-key-" or len(scalar) != 32:
        raise SSHKeyError("not an age X25519 identity (expected AGE-SECRET-KEY-1…)")
    public = X25519PrivateKey.from_private_bytes(scalar).public_key().public_bytes_raw()
    return age_recipient(public)
