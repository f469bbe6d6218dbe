"""Bech32 (original BIP-173, checksum constant 1) as age uses it.

age recipients (``age1…``) and identities (``AGE-SECRET-KEY-1…``) are bech32
strings over 32-byte payloads.  Differences from BIP-173 that matter here:

* no 90-character limit when *parsing* (post-quantum and plugin recipients are
  longer; age does not enforce it either);
* identities are upper case: the checksum is computed over the lower-cased
  string, the result is upper-cased (mixed case is rejected, as in BIP-173).

:func:`parse_age_recipient` is the one validator used wherever a recipient is
accepted (CLI options, ``.sops.yaml`` anchors): a checksum error or a payload
that is not 32 bytes is a :class:`~secretkit.errors.UserError` whose message
names the problem, never the input.
"""

from __future__ import annotations

from secretkit.errors import UserError

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_VALUES = {c: i for i, c in enumerate(CHARSET)}
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_CONST = 1  # bech32, not bech32m


class Bech32Error(UserError):
    """A malformed bech32 string (the message never quotes it)."""


def _polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, gen in enumerate(_GENERATOR):
            if (top >> i) & 1:
                chk ^= gen
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convertbits(data: bytes | list[int], frombits: int, tobits: int, pad: bool) -> list[int]:
    acc = 0
    bits = 0
    out: list[int] = []
    maxv = (1 << tobits) - 1
    for value in data:
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (tobits - bits)) & maxv)
    elif bits >= frombits or ((acc << (tobits - bits)) & maxv):
        raise Bech32Error("bech32 payload has invalid padding")
    return out


def encode(hrp: str, payload: bytes) -> str:
    """Bech32-encode ``payload`` under ``hrp`` (lower case; callers upper-case identities)."""
    hrp = hrp.lower()
    data = _convertbits(payload, 8, 5, pad=True)
    checksum_input = _hrp_expand(hrp) + data + [0] * 6
    polymod = _polymod(checksum_input) ^ _CONST
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[d] for d in data + checksum)


def decode(text: str) -> tuple[str, bytes]:
    """Split a bech32 string into (lower-case hrp, payload bytes); no length limit."""
    if any(ord(c) < 33 or ord(c) > 126 for c in text):
        raise Bech32Error("bech32 string contains invalid characters")
    if text.lower() != text and text.upper() != text:
        raise Bech32Error("bech32 string mixes upper and lower case")
    text = text.lower()
    sep = text.rfind("1")
    if sep < 1 or sep + 7 > len(text):
        raise Bech32Error("bech32 string has no separator or is too short")
    hrp, rest = text[:sep], text[sep + 1 :]
    try:
        data = [_VALUES[c] for c in rest]
    except KeyError:
        raise Bech32Error("bech32 string has a character outside the bech32 alphabet") from None
    if _polymod(_hrp_expand(hrp) + data) != _CONST:
        raise Bech32Error("bech32 checksum does not match (a typo or a truncated key?)")
    payload = bytes(_convertbits(data[:-6], 5, 8, pad=False))
    return hrp, payload


def parse_age_recipient(text: str) -> bytes:
    """Validate an ``age1…`` X25519 recipient and return its 32-byte public key."""
    text = text.strip()
    if not text.lower().startswith("age1"):
        raise Bech32Error(
            "not an age recipient (expected age1…)",
            hint="pass an age X25519 public key, or convert an ssh-ed25519 key with --ssh-pubkey",
        )
    try:
        hrp, payload = decode(text)
    except Bech32Error as exc:
        raise Bech32Error(
            f"invalid age recipient: {exc.message}",
            hint="copy the age1… key again (age-keygen -y, or ssh-to-age)",
        ) from None
    if hrp != "age" or len(payload) != 32:
        raise Bech32Error(
            f"invalid age recipient: payload is {len(payload)} bytes, expected 32",
            hint="only X25519 age1… recipients are supported here",
        )
    return payload


def normalize_age_recipient(text: str) -> str:
    """The canonical (lower-case, stripped) form of a valid ``age1…`` recipient."""
    parse_age_recipient(text)
    return text.strip().lower()


def age_recipient(public_key: bytes) -> str:
    """``age1…`` for a 32-byte X25519 public key."""
    if len(public_key) != 32:
        raise ValueError("an X25519 public key is 32 bytes")
    return encode("age", public_key)


def age_identity(scalar: bytes) -> str:
    """``AGE-SECRET-KEY-1…`` for a 32-byte X25519 scalar (not clamped here)."""
    if len(scalar) != 32:
        raise ValueError("an X25519 scalar is 32 bytes")
    return encode("age-secret-key-", scalar).upper()
