"""A fresh OpenSSH ed25519 key pair, like ``ssh-keygen -t ed25519 -N ''``.

Used for host keys made before the host exists (:mod:`~secretkit.keys.host_keys`)
and by the ``ssh-ed25519`` value generator.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from secretkit.sensitive import Sensitive


def ed25519_key_pair(comment: str = "") -> tuple[Sensitive[str], str]:
    """(private key in OpenSSH PEM form, public ``ssh-ed25519 AAAA… comment`` line)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode("ascii")
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode("ascii")
    )
    line = f"{public} {comment}".strip() if comment else public
    return Sensitive(pem), line
