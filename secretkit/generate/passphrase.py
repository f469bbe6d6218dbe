"""``passphrase``: words from the EFF long word list (7,776 words, about 12.9 bits
each), joined by ``-``.  The list ships with the package (``data/``, CC BY 3.0 US,
see ``data/README.md``): nothing is downloaded at run time."""

from __future__ import annotations

import secrets
from functools import cache
from importlib import resources

from secretkit.errors import UsageError
from secretkit.generate.model import Generated, Options
from secretkit.sensitive import Sensitive

WORDLIST = "eff_large_wordlist.txt"
WORDLIST_SIZE = 7776


@cache
def words() -> tuple[str, ...]:
    text = resources.files("secretkit.generate").joinpath("data", WORDLIST).read_text("utf-8")
    found = tuple(line.split()[-1] for line in text.splitlines() if line.strip())
    if len(found) != WORDLIST_SIZE or len(set(found)) != WORDLIST_SIZE:
        raise RuntimeError(f"the shipped word list is damaged ({len(found)} words)")
    return found


class Passphrase:
    name = "passphrase"
    summary = "EFF long-list words joined by '-'; --words N, default 6 (77 bits)"
    has_public = False

    def generate(self, options: Options) -> Generated:
        if options.length is not None:
            raise UsageError("--kind passphrase counts words", hint="use --words N")
        n = 6 if options.words is None else options.words
        if not 4 <= n <= 64:
            raise UsageError(f"--words must be between 4 and 64, not {n}")
        pool = words()
        return Generated(Sensitive("-".join(secrets.choice(pool) for _ in range(n))))


KIND = Passphrase()
