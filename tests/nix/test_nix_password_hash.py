"""nix/catalogue/password_hash.py: SHA-512 crypt against the specification's vectors and openssl."""

from __future__ import annotations

import subprocess

import pytest

from secretkit.nix.catalogue.password_hash import is_crypt_hash, sha512_crypt
from tests.conftest import need_tool

# From Drepper's "Unix crypt using SHA-256 and SHA-512" test vectors.
VECTORS = [
    ("Hello world!", "saltstring", None,
     "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"),
    ("Hello world!", "saltstringsaltstring", 10000,
     "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."),
    ("This is just a test", "toolongsaltstring", 5000,
     "$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0"),
]  # fmt: skip


@pytest.mark.parametrize(("password", "salt", "rounds", "want"), VECTORS)
def test_specification_vectors(password: str, salt: str, rounds: int | None, want: str) -> None:
    assert sha512_crypt(password, salt, rounds) == want


def test_matches_openssl() -> None:
    openssl = need_tool("openssl")
    for password in ("x", "pässwörd", "a" * 70):
        proc = subprocess.run(
            [openssl, "passwd", "-6", "-salt", "abcdefgh", password],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert sha512_crypt(password, "abcdefgh") == proc.stdout.strip()


def test_fresh_salt_each_time() -> None:
    a, b = sha512_crypt("same"), sha512_crypt("same")
    assert a != b and is_crypt_hash(a) and a.startswith("$6$")
    assert not is_crypt_hash("plain")
