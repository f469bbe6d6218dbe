"""The scrypt behind every fingerprint: libsodium's and OpenSSL's give RFC 7914's
bytes, and a fingerprint made before libsodium was used is made again."""

from __future__ import annotations

import os

import pytest

from secretkit.scan import allowlist
from secretkit.scan import scrypt as scrypt_mod

# RFC 7914, section 12 (the 1 GiB fourth vector is left out: a test of its own memory)
VECTORS = [
    (b"", b"", 16, 1, 1,
     "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
     "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"),
    (b"password", b"NaCl", 1024, 8, 16,
     "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
     "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"),
    (b"pleaseletmein", b"SodiumChloride", 16384, 8, 1,
     "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
     "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887"),
]  # fmt: skip

# Made by the hashlib-only fingerprint (bc35e87): committed allowlists hold such lines.
FINGERPRINTS = [
    ("a" * 40, "not-a-secret-value", "sk2:883e4006a0ae59dbe14e840ab47e0600"),
    (None, "x", "sk2:84dd945c802fb520889f2998e9b2ee31"),
]


def _libsodium():
    found = scrypt_mod.libsodium()
    if found is None:
        if os.environ.get("SECRETKIT_REQUIRE_ORACLES"):
            pytest.fail("libsodium (Debian: libsodium23) cannot be opened; CI installs it")
        pytest.skip("libsodium is not installed: only OpenSSL's scrypt is checked")
    return found


@pytest.mark.parametrize(("password", "salt", "n", "r", "p", "expected"), VECTORS)
def test_openssl_gives_the_rfc_vectors(password, salt, n, r, p, expected):
    assert scrypt_mod.openssl(password, salt, n, r, p, 64).hex() == expected


@pytest.mark.parametrize(("password", "salt", "n", "r", "p", "expected"), VECTORS)
def test_libsodium_gives_the_rfc_vectors(password, salt, n, r, p, expected):
    assert _libsodium()(password, salt, n, r, p, 64).hex() == expected


@pytest.mark.parametrize(("root", "value", "expected"), FINGERPRINTS)
def test_a_fingerprint_is_the_one_made_before(root, value, expected, monkeypatch):
    key = allowlist.derive_key(root)
    allowlist.fingerprint.cache_clear()
    assert allowlist.fingerprint(key, value) == expected  # (libsodium where it is)
    allowlist.fingerprint.cache_clear()
    monkeypatch.setattr(scrypt_mod, "libsodium", lambda: None)  # a system without it
    assert allowlist.fingerprint(key, value) == expected
    allowlist.fingerprint.cache_clear()


def test_a_refusal_by_libsodium_falls_back_to_openssl(monkeypatch):
    def refuses(*_args):
        raise OSError("libsodium refused the scrypt parameters")

    monkeypatch.setattr(scrypt_mod, "libsodium", lambda: refuses)
    password, salt, n, r, p, expected = VECTORS[2]
    assert scrypt_mod.scrypt(password, salt, n, r, p, 64).hex() == expected


def test_a_wrong_path_in_the_environment_leaves_the_system_library(monkeypatch, tmp_path):
    _libsodium()  # (the system has one)
    scrypt_mod.libsodium.cache_clear()
    try:
        monkeypatch.setenv(scrypt_mod.ENV, str(tmp_path / "missing.so"))
        found = scrypt_mod.libsodium()
        assert found is not None
        password, salt, n, r, p, expected = VECTORS[1]
        assert found(password, salt, n, r, p, 64).hex() == expected
    finally:
        scrypt_mod.libsodium.cache_clear()
