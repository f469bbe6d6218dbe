"""``hex``: random bytes in lowercase hex, like ``openssl rand -hex N``."""

from __future__ import annotations

import secrets

from secretkit.generate.model import Generated, Options, length_of
from secretkit.sensitive import Sensitive


class Hex:
    name = "hex"
    summary = "random bytes as lowercase hex; --length bytes, default 32 (64 characters)"
    has_public = False

    def generate(self, options: Options) -> Generated:
        n = length_of(options, 32, 8, 512, "bytes")
        return Generated(Sensitive(secrets.token_hex(n)))


KIND = Hex()
