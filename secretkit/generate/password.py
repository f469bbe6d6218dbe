"""``password``: random characters from letters, digits and punctuation that needs no
quoting in Nix strings, YAML or a shell (no quotes, backslash, ``$`` or space)."""

from __future__ import annotations

import string

from secretkit.generate.model import Generated, Options, length_of, random_text
from secretkit.sensitive import Sensitive

ALPHABET = string.ascii_letters + string.digits + "-_.,:;!@#%^&*+=?~"


class Password:
    name = "password"
    summary = "random characters (letters, digits, punctuation); --length chars, default 32"
    has_public = False

    def generate(self, options: Options) -> Generated:
        n = length_of(options, 32, 8, 1024, "characters")
        return Generated(Sensitive(random_text(ALPHABET, n)))


KIND = Password()
