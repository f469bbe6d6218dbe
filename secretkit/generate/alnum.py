"""``alnum``: random letters and digits (tokens an API or a form accepts anywhere)."""

from __future__ import annotations

import string

from secretkit.generate.model import Generated, Options, length_of, random_text
from secretkit.sensitive import Sensitive

ALPHABET = string.ascii_letters + string.digits


class Alnum:
    name = "alnum"
    summary = "random letters and digits; --length chars, default 32"
    has_public = False

    def generate(self, options: Options) -> Generated:
        n = length_of(options, 32, 8, 1024, "characters")
        return Generated(Sensitive(random_text(ALPHABET, n)))


KIND = Alnum()
