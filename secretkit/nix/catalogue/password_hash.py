"""SHA-512 crypt (``$6$``), the hash NixOS ``hashedPasswordFile`` expects.

A pure-Python implementation of Ulrich Drepper's "Unix crypt using SHA-256 and
SHA-512" specification (what ``mkpasswd -m sha-512`` and glibc produce), so that
``migrate`` can store a hash instead of a clear-text password without the
``crypt`` module (deprecated, gone in Python 3.13).
"""

from __future__ import annotations

_B64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ROUNDS_DEFAULT = 5000

# Byte order of the final encoding (triples, then the last single byte).
_ORDER = [
    (0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4), (47, 5, 26),
    (6, 27, 48), (28, 49, 7), (50, 8, 29), (9, 30, 51), (31, 52, 10), (53, 11, 32),
    (12, 33, 54), (34, 55, 13), (56, 14, 35), (15, 36, 57), (37, 58, 16), (59, 17, 38),
    (18, 39, 60), (40, 61, 19), (62, 20, 41),
]  # fmt: skip


def _b64_from_24bit(b2: int, b1: int, b0: int, n: int) -> str:
    w = (b2 << 16) | (b1 << 8) | b0
    out = []
    for _ in range(n):
        out.append(_B64[w & 0x3F])
        w >>= 6
    return "".join(out)


def _repeat(digest: bytes, length: int) -> bytes:
    return (digest * (length // 64 + 1))[:length]


def sha512_crypt(password: str, salt: str | None = None, rounds: int | None = None) -> str:
    """``$6$<salt>$<hash>`` for ``password`` (a fresh 16-character salt by default)."""
    if salt is None:
        import secrets  # (random with it: 2 ms the hook's advice on a password never needs)

        salt = "".join(secrets.choice(_B64) for _ in range(16))
    salt = salt[:16]
    if any(c in "$:\n" for c in salt):
        raise ValueError("invalid salt")
    pw = password.encode("utf-8")
    sb = salt.encode("ascii")
    n = _ROUNDS_DEFAULT if rounds is None else max(1000, min(rounds, 999_999_999))

    import hashlib  # (loads OpenSSL: spared when no hash is made)

    b = hashlib.sha512(pw + sb + pw).digest()
    a = hashlib.sha512(pw + sb)
    a.update(_repeat(b, len(pw)))
    i = len(pw)
    while i > 0:
        a.update(b if i & 1 else pw)
        i >>= 1
    da = a.digest()

    dp = hashlib.sha512(pw * len(pw)).digest()
    p = _repeat(dp, len(pw))
    ds = hashlib.sha512(sb * (16 + da[0])).digest()
    s = _repeat(ds, len(sb))

    c = da
    for r in range(n):
        h = hashlib.sha512()
        h.update(p if r & 1 else c)
        if r % 3:
            h.update(s)
        if r % 7:
            h.update(p)
        h.update(c if r & 1 else p)
        c = h.digest()

    encoded = "".join(_b64_from_24bit(c[x], c[y], c[z], 4) for x, y, z in _ORDER)
    encoded += _b64_from_24bit(0, 0, c[63], 2)
    prefix = "$6$" if rounds is None else f"$6$rounds={n}$"
    return f"{prefix}{salt}${encoded}"


def is_crypt_hash(value: str) -> bool:
    """A value already in crypt(3) form (``$6$``, ``$y$``, ``$2b$``, …)."""
    return value.startswith("$") and value.count("$") >= 3
