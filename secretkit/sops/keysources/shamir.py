"""Shamir secret sharing over GF(2^8), as sops (HashiCorp Vault's code) does it.

Field: GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1.  Every byte of
the secret gets its own random polynomial of degree ``threshold - 1``; a share is
the y-bytes followed by one x byte (so a 32-byte data key gives 33-byte shares).
x coordinates are distinct, random, in 1..255 (Go: ``mathrand.Perm(255)[i] + 1``).
"""

from __future__ import annotations

import secrets

from secretkit.errors import IntegrityError, UserError


def _mult(a: int, b: int) -> int:
    result = 0
    for _ in range(8):
        if b & 1:
            result ^= a
        carry = a & 0x80
        a = (a << 1) & 0xFF
        if carry:
            a ^= 0x1B
        b >>= 1
    return result


_EXP = [0] * 510
_LOG = [0] * 256
_value = 1
for _i in range(255):
    _EXP[_i] = _value
    _LOG[_value] = _i
    _value = _mult(_value, 3)
for _i in range(255, 510):
    _EXP[_i] = _EXP[_i - 255]


def mult(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return _EXP[_LOG[a] + _LOG[b]]


def div(a: int, b: int) -> int:
    if b == 0:
        raise ZeroDivisionError("division by zero in GF(2^8)")
    if a == 0:
        return 0
    return _EXP[(_LOG[a] - _LOG[b]) % 255]


def _evaluate(coefficients: list[int], x: int) -> int:
    out = coefficients[-1]
    for coefficient in reversed(coefficients[:-1]):
        out = mult(out, x) ^ coefficient
    return out


def _interpolate_at_zero(xs: list[int], ys: list[int]) -> int:
    result = 0
    for i, (xi, yi) in enumerate(zip(xs, ys, strict=True)):
        basis = 1
        for j, xj in enumerate(xs):
            if i != j:
                basis = mult(basis, div(xj, xi ^ xj))
        result ^= mult(yi, basis)
    return result


def split(secret: bytes, parts: int, threshold: int) -> list[bytes]:
    """``parts`` shares of ``secret``, any ``threshold`` of which recover it."""
    if parts < threshold:
        raise UserError("shamir_threshold is larger than the number of key groups")
    if parts > 255 or threshold > 255:
        raise UserError("Shamir secret sharing supports at most 255 key groups")
    if threshold < 2:
        raise UserError("shamir_threshold must be at least 2 when there are several key groups")
    if not secret:
        raise UserError("cannot split an empty secret")
    rng = secrets.SystemRandom()
    xs = [x + 1 for x in rng.sample(range(255), parts)]
    shares = [bytearray(len(secret) + 1) for _ in range(parts)]
    for share, x in zip(shares, xs, strict=True):
        share[-1] = x
    for index, byte in enumerate(secret):
        coefficients = [byte, *secrets.token_bytes(threshold - 1)]
        for share, x in zip(shares, xs, strict=True):
            share[index] = _evaluate(coefficients, x)
    return [bytes(share) for share in shares]


def combine(parts: list[bytes]) -> bytes:
    """The secret from ``threshold`` or more shares; IntegrityError on malformed shares."""
    if len(parts) < 2:
        raise IntegrityError("less than two Shamir shares cannot reconstruct the data key")
    length = len(parts[0])
    if length < 2 or any(len(part) != length for part in parts):
        raise IntegrityError("the Shamir shares of the data key have different lengths")
    xs = [part[-1] for part in parts]
    if len(set(xs)) != len(xs) or 0 in xs:
        raise IntegrityError("duplicate or invalid Shamir share of the data key")
    return bytes(
        _interpolate_at_zero(xs, [part[index] for part in parts]) for index in range(length - 1)
    )
