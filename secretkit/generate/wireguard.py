"""``wireguard``: a Curve25519 key pair like ``wg genkey | tee priv | wg pubkey``:
the private key (base64, clamped) is stored, the public key is the public half."""

from __future__ import annotations

import base64
import secrets

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from secretkit.generate.model import Generated, Options, no_size
from secretkit.sensitive import Sensitive


def clamp(raw: bytes) -> bytes:
    key = bytearray(raw)
    key[0] &= 248
    key[31] = (key[31] & 127) | 64
    return bytes(key)


def public_of(private_b64: str) -> str:
    raw = base64.b64decode(private_b64)
    public = X25519PrivateKey.from_private_bytes(raw).public_key().public_bytes_raw()
    return base64.b64encode(public).decode("ascii")


class WireGuard:
    name = "wireguard"
    summary = "WireGuard private key (stored) and public key (printed / --public-out)"
    has_public = True

    def generate(self, options: Options) -> Generated:
        no_size(options, self.name)
        private = base64.b64encode(clamp(secrets.token_bytes(32))).decode("ascii")
        return Generated(Sensitive(private), public=public_of(private))


KIND = WireGuard()
