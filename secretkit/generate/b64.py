"""``base64``: random bytes in standard base64, like ``openssl rand -base64 N``."""

from __future__ import annotations

import base64
import secrets

from secretkit.generate.model import Generated, Options, length_of
from secretkit.sensitive import Sensitive


class Base64:
    name = "base64"
    summary = "random bytes as standard base64; --length bytes, default 32"
    has_public = False

    def generate(self, options: Options) -> Generated:
        n = length_of(options, 32, 8, 512, "bytes")
        return Generated(Sensitive(base64.b64encode(secrets.token_bytes(n)).decode("ascii")))


KIND = Base64()
