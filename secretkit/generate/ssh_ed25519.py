"""``ssh-ed25519``: an OpenSSH ed25519 key pair, like ``ssh-keygen -t ed25519 -N ''``:
the private key (OpenSSH PEM) is stored, the ``ssh-ed25519 AAAA…`` line is public."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from secretkit.generate.model import Generated, Options, no_size
from secretkit.sensitive import Sensitive


def key_pair(comment: str = "") -> tuple[Sensitive[str], str]:
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


class SshEd25519:
    name = "ssh-ed25519"
    summary = "OpenSSH ed25519 private key (stored) and public key line (printed)"
    has_public = True

    def generate(self, options: Options) -> Generated:
        no_size(options, self.name)
        private, public = key_pair(options.comment)
        return Generated(private, public=public)


KIND = SshEd25519()
