"""sops/keysources/bech32.py: bech32 as age uses it (BIP-173 vectors, long strings,
recipient validation messages)."""

from __future__ import annotations

import pytest

from secretkit.errors import EXIT_USER
from secretkit.sops.keysources.bech32 import Bech32Error, decode, encode, parse_age_recipient


def test_bech32_round_trip_and_reference_vector() -> None:
    # BIP-173 valid test vector (bech32, constant 1)
    assert decode("A12UEL5L") == ("a", b"")
    payload = bytes(range(32))
    text = encode("age", payload)
    assert decode(text) == ("age", payload)
    assert decode(text.upper()) == ("age", payload)


def test_long_strings_are_accepted() -> None:
    payload = bytes(range(200))
    text = encode("age1pq", payload)
    assert len(text) > 90
    assert decode(text) == ("age1pq", payload)


# ssh-to-age.md §4: the public vector for eva.thalheim.io
RECIPIENT = "age1v8zjc47jmlqwefyu66s0d4ke98qr4vnuj3cpvs4z9npfdw833dxqwjrhzv"
_BAD_SUM = "invalid age recipient: bech32 checksum does not match (a typo or a truncated key?)"
BAD_RECIPIENTS = [
    ("ssh-ed25519 AAAA", "not an age recipient (expected age1…)"),
    (RECIPIENT[:-1] + ("q" if RECIPIENT[-1] != "q" else "p"), _BAD_SUM),
    (RECIPIENT[:20], _BAD_SUM),
    (
        "age1" + RECIPIENT[4:10].upper() + RECIPIENT[10:],
        "invalid age recipient: bech32 string mixes upper and lower case",
    ),
    (
        "age1bbbbbb",
        "invalid age recipient: bech32 string has a character outside the bech32 alphabet",
    ),
    (encode("age", bytes(31)), "invalid age recipient: payload is 31 bytes, expected 32"),
    (encode("age", bytes(33)), "invalid age recipient: payload is 33 bytes, expected 32"),
]


@pytest.mark.parametrize(("text", "message"), BAD_RECIPIENTS)
def test_bad_recipients(text: str, message: str) -> None:
    with pytest.raises(Bech32Error) as info:
        parse_age_recipient(text)
    assert info.value.message == message
    assert info.value.exit_code == EXIT_USER
