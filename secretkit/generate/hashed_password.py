"""``hashed-password``: a random password stored as its SHA-512 crypt hash (``$6$``,
what ``mkpasswd -m sha-512`` makes and NixOS ``hashedPasswordFile`` /
``users.users.<n>.hashedPassword`` accept).  yescrypt (``$y$``) would need the
system's libxcrypt; the pure-Python ``$6$`` works everywhere.  The clear text is
kept in :attr:`Generated.plain` for ``--also-plain NAME``."""

from __future__ import annotations

from secretkit.generate.alnum import ALPHABET
from secretkit.generate.model import Generated, Options, length_of, random_text
from secretkit.nix.catalogue.password_hash import sha512_crypt
from secretkit.sensitive import Sensitive


class HashedPassword:
    name = "hashed-password"
    summary = "SHA-512 crypt ($6$) of a random password; --also-plain keeps the password"
    has_public = False

    def generate(self, options: Options) -> Generated:
        n = length_of(options, 24, 8, 1024, "characters of the password")
        plain = random_text(ALPHABET, n)
        return Generated(Sensitive(sha512_crypt(plain)), plain=Sensitive(plain))


KIND = HashedPassword()
