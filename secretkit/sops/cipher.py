"""sops value encryption: AES-256-GCM with 32-byte nonces and the ``ENC[...]`` envelope.

Pure functions of (key, plaintext bytes, aad, iv); the IV source is injectable so
known-answer tests can pin it.  :class:`ValueCipher` adds sops' IV stash: a value
decrypted once and re-encrypted unchanged (same plaintext, same AAD) reuses its IV,
so an edit changes only the ciphertexts of the values that changed.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from secretkit.errors import IntegrityError, UserError
from secretkit.lazy_re import lazy
from secretkit.sops import goformat
from secretkit.sops.tree import Comment, GoTime, Value

NONCE_SIZE = 32
TAG_SIZE = 16
TYPES = ("str", "int", "float", "bool", "time", "comment", "bytes")

IVSource = Callable[[int], bytes]

_ENC = lazy(r"^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]", re.DOTALL)


@dataclass(frozen=True)
class EncryptedValue:
    """One ``ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`` value, its parts decoded."""

    data: bytes
    iv: bytes
    tag: bytes
    type: str

    def text(self) -> str:
        b64 = base64.b64encode
        return (
            f"ENC[AES256_GCM,data:{b64(self.data).decode()},iv:{b64(self.iv).decode()},"
            f"tag:{b64(self.tag).decode()},type:{self.type}]"
        )


def is_encrypted(text: str) -> bool:
    return _ENC.match(text) is not None


def _b64(part: str, what: str, where: str) -> bytes:
    try:
        return base64.b64decode(part.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise UserError(
            f"malformed encrypted value at {where}: {what} is not valid base64",
            hint="the file is damaged; restore it from git",
        ) from None


def parse(text: str, where: str = "?") -> EncryptedValue:
    """Split an ``ENC[...]`` string; UserError naming ``where`` (never the value)."""
    m = _ENC.match(text)
    if not m:
        raise UserError(
            f"malformed encrypted value at {where}: not an ENC[AES256_GCM,...] string",
            hint="the file is damaged or not a sops file; restore it from git",
        )
    data = _b64(m.group(1), "data", where)
    iv = _b64(m.group(2), "iv", where)
    tag = _b64(m.group(3), "tag", where)
    kind = m.group(4)
    if kind not in TYPES:
        raise UserError(
            f"malformed encrypted value at {where}: unknown type {kind[:20]!r}",
            hint="the file is damaged; restore it from git",
        )
    if not iv:
        raise UserError(
            f"malformed encrypted value at {where}: empty iv",
            hint="the file is damaged; restore it from git",
        )
    return EncryptedValue(data, iv, tag, kind)


def seal(key: bytes, plaintext: bytes, aad: str, iv: bytes, kind: str) -> str:
    """AES-256-GCM encrypt ``plaintext`` and wrap it as ``ENC[...]`` (the core primitive)."""
    sealed = AESGCM(key).encrypt(iv, plaintext, aad.encode("utf-8", "surrogateescape"))
    return EncryptedValue(sealed[:-TAG_SIZE], iv, sealed[-TAG_SIZE:], kind).text()


def open_(key: bytes, value: EncryptedValue, aad: str, where: str = "?") -> bytes:
    """Decrypt one value; IntegrityError when the tag does not verify."""
    try:
        return AESGCM(key).decrypt(
            value.iv, value.data + value.tag, aad.encode("utf-8", "surrogateescape")
        )
    except (InvalidTag, ValueError):
        raise IntegrityError(
            f"value at {where} does not decrypt: wrong data key or tampered file",
            hint="the file was modified outside sops or is damaged",
        ) from None


# --- typed values -----------------------------------------------------------------


def to_bytes(value: Value) -> bytes:
    """sops ``ToBytes``: the plaintext bytes of a leaf (MAC input and cipher input)."""
    if isinstance(value, Comment):
        return value.text.encode("utf-8", "surrogateescape")
    if isinstance(value, bool):
        return goformat.format_bool(value).encode()
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, float):
        return goformat.format_float(value).encode()
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, bytes):
        return value
    if isinstance(value, GoTime):
        return value.text.encode()
    raise TypeError(f"cannot encrypt a {type(value).__name__}")


def type_of(value: Value) -> str:
    if isinstance(value, Comment):
        return "comment"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, GoTime):
        return "time"
    return "str"  # str and bytes (sops re-encrypts decrypted bytes as str)


def from_bytes(raw: bytes, kind: str, where: str = "?") -> Value:
    """Turn decrypted bytes back into a typed leaf (sops ``Decrypt``'s type switch)."""
    text = raw.decode("utf-8", "surrogateescape")
    try:
        if kind == "str":
            return text
        if kind == "int":
            return goformat.parse_int(text)
        if kind == "float":
            return goformat.parse_float(text)
        if kind == "bool":
            return goformat.parse_bool(text)
        if kind == "time":
            goformat.parse_rfc3339(text)
            return GoTime(text)
        if kind == "comment":
            return Comment(text)
        if kind == "bytes":
            return raw
    except ValueError:
        pass
    raise IntegrityError(f"value at {where} decrypts to something that is not a valid {kind}")


def _is_empty(value: Value) -> bool:
    if isinstance(value, Comment):
        return value.text == ""
    return isinstance(value, (str, bytes)) and len(value) == 0


def random_iv(size: int) -> bytes:
    return os.urandom(size)


class ValueCipher:
    """Encrypts/decrypts typed leaves with one data key, stashing IVs like sops."""

    def __init__(self, key: bytes, iv_source: IVSource | None = None) -> None:
        if len(key) != 32:
            raise UserError("the data key must be 32 bytes")
        self._key = key
        self._iv_source = iv_source or random_iv
        self.stash: dict[tuple[bytes, str], bytes] = {}

    def encrypt(self, value: Value, aad: str) -> str:
        if _is_empty(value):
            return ""
        plaintext = to_bytes(value)
        iv = self.stash.get((plaintext, aad))
        if iv is None:
            iv = self._iv_source(NONCE_SIZE)
        return seal(self._key, plaintext, aad, iv, type_of(value))

    def decrypt(self, text: str, aad: str, where: str = "?") -> Value:
        if text == "":
            return ""
        value = parse(text, where)
        plaintext = open_(self._key, value, aad, where)
        self.stash[(plaintext, aad)] = value.iv
        return from_bytes(plaintext, value.type, where)
