"""Known-answer vectors for the value cipher, copied as facts from real sops files
(sops-nix ``secrets.yaml`` by sops 3.7.1, humphd/sops-age ``secret.enc.yaml`` by 3.8.1),
so a fresh clone proves cipher, AAD and types without the shared fixtures."""

from __future__ import annotations

import base64
import re

import pytest

from secretkit.errors import IntegrityError, UserError
from secretkit.sops import cipher
from secretkit.sops.tree import Comment, GoTime


def _hex(*chunks: str) -> bytes:
    # Built from chunks so no test file holds a token-shaped literal.
    return bytes.fromhex("".join(chunks))


SOPS_NIX_KEY = _hex(
    "b9152942", "b7105527", "fd1fb9e2", "d9a1ee9b", "d03a7bb8", "edea26d3", "11fda1a2", "e85056b2"
)
HUMPHD_KEY = _hex(
    "81d24729", "0bee0b25", "484e7610", "1e727f63", "fc984896", "953fe488", "8864f49d", "b529e73a"
)
EXAMPLE_KEY = _hex(
    "8c68886c", "50b5b729", "65a3cb99", "c5172e1d", "74a8aca2", "7b39ee88", "0b535d69", "07e59f68"
)

VECTORS = [
    # (key, aad, typed plaintext, exact ENC string written by real sops)
    (SOPS_NIX_KEY, "test_key:", "test_value",
     "ENC[AES256_GCM,data:2mP+IAdczoEr0g==,iv:voX4IQemcgt0O97oLExy5r2V85nn687cIyWmHNDhUag=,tag:R97qy4fKneU7D9UFhXNvgA==,type:str]"),
    # list elements use the list's path (no index)
    (SOPS_NIX_KEY, "a_list:", "e1",
     "ENC[AES256_GCM,data:oOQ=,iv:5P+1UQyIYOW8xXgsvTXC17msGcA6IGB3N8n+pstfqjo=,tag:ox4rgjbb8c0vYZ2XmwRgpg==,type:str]"),
    (SOPS_NIX_KEY, "nested:test:file:", "another value",
     "ENC[AES256_GCM,data:9YhsaXoxxdbLUzeWqA==,iv:xBYQQpsC/Xq0wHXNcqmLxNs5yvG+yjBzcpdRpC+UJxs=,tag:OnonR98dn9CXh/LwlRwXIw==,type:str]"),
    (HUMPHD_KEY, "int:", 7,
     "ENC[AES256_GCM,data:Ag==,iv:7mZlIiottanvOoufMaIRtOYNmq0yr3E0HBbChYkB7sc=,tag:FSHs1hYNQEkBAFCRYbcEUw==,type:int]"),
    (HUMPHD_KEY, "float:", 3.14,
     "ENC[AES256_GCM,data:xXzcgA==,iv:nfQv47XSb+3zRPL7hZPlxtPcfhdHfXDVVf28/DpoaZ4=,tag:1S0vEap4M1RvG61FhDOUmA==,type:float]"),
    (HUMPHD_KEY, "boolean:", True,
     "ENC[AES256_GCM,data:qw4M9Q==,iv:6nWrJg5eHsgOpxQsTX3Z3egkRFKeVi5UztF3ccd6Nqk=,tag:n7Dnj1JtcCKBr1JTAzhhpA==,type:bool]"),
    (HUMPHD_KEY, "complex:array:", "one",
     "ENC[AES256_GCM,data:dDBg,iv:yQOKyyjy49vtuYeAGmwug6Bgj+r/nGAAq028IXGswWw=,tag:Uk5/fV0k2ICcHPY7gJfMNQ==,type:str]"),
    # an encrypted comment: AAD = the path of the mapping that contains it
    (EXAMPLE_KEY, "app2:db:", Comment(" private key for secret operations in app2"),
     "ENC[AES256_GCM,data:uPuUQAahmq1xL5L2B0+a2gHSl7zXucjqa4Kr0AgNKTpgHw3IPx2lCoK+,iv:qYxjRmWMir47YKhmrrHwV0atmGjcJ3Dts+xvQ+6skHQ=,tag:dsj+0DsfiDyJNGUmvZwnHg==,type:comment]"),
    (EXAMPLE_KEY, "number:", 1234568000.0,
     "ENC[AES256_GCM,data:DX0qiTOWhQvG/w==,iv:ouWsby8JoFwCRj/mLVCnNcYhP2sdyf4h6nwZuGksE7Q=,tag:lPU6AId2JrlquHnYRw+E8Q==,type:float]"),
    (EXAMPLE_KEY, "somebooleans:", False,
     "ENC[AES256_GCM,data:3I0AVdM=,iv:q4YKnRIKufREPmwT4sz8plcsOD6iem/tY3NMUV0STBE=,tag:0w4OMKClWTzjKhqsJZT8JA==,type:bool]"),
]  # fmt: skip


@pytest.mark.parametrize(("key", "aad", "plaintext", "expected"), VECTORS)
def test_known_answer_encrypt(key: bytes, aad: str, plaintext: object, expected: str) -> None:
    iv = cipher.parse(expected).iv
    assert len(iv) == 32
    values = cipher.ValueCipher(key, iv_source=lambda size: iv)
    assert values.encrypt(plaintext, aad) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("key", "aad", "plaintext", "expected"), VECTORS)
def test_known_answer_decrypt(key: bytes, aad: str, plaintext: object, expected: str) -> None:
    values = cipher.ValueCipher(key)
    assert values.decrypt(expected, aad) == plaintext


def test_wrong_aad_fails_with_integrity_error_naming_the_path_only() -> None:
    _key, _aad, _plain, enc = VECTORS[0]
    with pytest.raises(IntegrityError) as info:
        cipher.ValueCipher(SOPS_NIX_KEY).decrypt(enc, "other_key:", "other_key")
    assert "other_key" in str(info.value)
    assert "test_value" not in str(info.value)


def test_empty_strings_are_never_encrypted() -> None:
    values = cipher.ValueCipher(SOPS_NIX_KEY)
    assert values.encrypt("", "a:") == ""
    assert values.encrypt(Comment(""), "a:") == ""
    assert values.decrypt("", "a:") == ""


def test_iv_stash_reuses_the_iv_of_an_unchanged_value() -> None:
    _key, aad, plain, enc = VECTORS[0]
    values = cipher.ValueCipher(SOPS_NIX_KEY, iv_source=lambda size: b"\x01" * size)
    assert values.decrypt(enc, aad) == plain
    assert values.encrypt(plain, aad) == enc  # same plaintext + AAD: stashed IV
    fresh = values.encrypt("changed", aad)
    assert cipher.parse(fresh).iv == b"\x01" * 32


def test_every_type_round_trips() -> None:
    values = cipher.ValueCipher(HUMPHD_KEY)
    for value in [
        "text",
        "ünï",
        0,
        -42,
        2**62,
        1.5,
        1e21,
        -0.25,
        True,
        False,
        Comment("c"),
        GoTime("2024-01-02T03:04:05Z"),
    ]:
        enc = values.encrypt(value, "k:")
        assert cipher.parse(enc).type == cipher.type_of(value)
        assert values.decrypt(enc, "k:") == value


def test_float_plaintext_uses_go_formatting() -> None:
    values = cipher.ValueCipher(HUMPHD_KEY, iv_source=lambda size: bytes(size))
    enc = cipher.parse(values.encrypt(1e21, "k:"))
    raw = cipher.open_(HUMPHD_KEY, enc, "k:")
    assert raw == b"1000000000000000000000"


def test_bytes_type_decrypts_to_bytes_and_reencrypts_as_str() -> None:
    iv = bytes(range(32))
    text = cipher.seal(HUMPHD_KEY, b"\x00\xff", "k:", iv, "bytes")
    values = cipher.ValueCipher(HUMPHD_KEY)
    assert values.decrypt(text, "k:") == b"\x00\xff"
    assert cipher.parse(values.encrypt(b"\x00\xff", "k:")).type == "str"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("plain", "not an ENC[AES256_GCM,...] string"),
        ("ENC[AES256_GCM,data:!!!,iv:AAAA,tag:AAAA,type:str]", "data is not valid base64"),
        ("ENC[AES256_GCM,data:AAAA,iv:A,tag:AAAA,type:str]", "iv is not valid base64"),
        ("ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAA,type:weird]", "unknown type"),
    ],
)
def test_malformed_enc_strings(text: str, message: str) -> None:
    with pytest.raises(UserError, match=re.escape(message)) as info:
        cipher.parse(text, "a:b")
    assert str(info.value).startswith("malformed encrypted value at a:b: ")


def test_decrypted_bytes_of_the_wrong_type_are_an_integrity_error() -> None:
    iv = bytes(32)
    text = cipher.seal(HUMPHD_KEY, b"not-a-number", "k:", iv, "int")
    with pytest.raises(IntegrityError, match="not a valid int"):
        cipher.ValueCipher(HUMPHD_KEY).decrypt(text, "k:", "k")


def test_tag_is_stored_apart_from_the_ciphertext() -> None:
    enc = cipher.parse(VECTORS[0][3])
    assert len(enc.tag) == 16
    assert len(enc.data) == len(b"test_value")
    assert base64.b64encode(enc.iv).decode() == "voX4IQemcgt0O97oLExy5r2V85nn687cIyWmHNDhUag="
