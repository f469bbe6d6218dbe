"""A value read from a binary sops file (an agenix import of random bytes) is text with
surrogate escapes: comparing and hashing it never raises (helper-127: exposed and
purge stopped with an internal error on one)."""

from __future__ import annotations

from secretkit.sensitive import Sensitive


def test_values_with_surrogate_escapes_compare_and_hash() -> None:
    raw = bytes(range(0x80, 0x90)) + b"tail"
    text = raw.decode("utf-8", "surrogateescape")
    a, b = Sensitive(text), Sensitive(raw.decode("utf-8", "surrogateescape"))
    other = Sensitive(bytes(range(0x90, 0xA0)).decode("utf-8", "surrogateescape"))
    assert a == b and hash(a) == hash(b)
    assert a != other
    assert a != Sensitive("plain text")
    assert len({a, b, other}) == 2


def test_a_binary_values_preview_shows_its_bytes() -> None:
    """helper-131: exposed previewed a binary value as \\udcff\\udcfe…"""
    from secretkit.sensitive import preview

    raw = bytes([0xFF, 0xFE, 0x41, 0x0A]) + b"x" * 12
    assert preview(raw.decode("utf-8", "surrogateescape")) == "\\xff\\xfeA\\n…"
