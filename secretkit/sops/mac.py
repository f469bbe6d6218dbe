"""The sops MAC: SHA-512 over the plaintext leaf bytes in file order.

No keys, no separators; comments and nulls skipped; unencrypted leaves included
unless ``mac_only_encrypted`` (then the hash starts with ``sha256("sops")``).  The
hex digest (uppercase) is stored encrypted with the data key, AAD = ``lastmodified``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from secretkit.errors import IntegrityError
from secretkit.sops import cipher, goformat

MAC_ONLY_ENCRYPTED_INIT = hashlib.sha256(b"sops").digest()


class MacHasher:
    """Incremental MAC: feed plaintext leaves in file order, then :meth:`hexdigest`."""

    def __init__(self, mac_only_encrypted: bool = False) -> None:
        self._mac_only_encrypted = mac_only_encrypted
        self._hash = hashlib.sha512()
        if mac_only_encrypted:
            self._hash.update(MAC_ONLY_ENCRYPTED_INIT)

    def add(self, plaintext: bytes, encrypted: bool) -> None:
        if self._mac_only_encrypted and not encrypted:
            return
        self._hash.update(plaintext)

    def hexdigest(self) -> str:
        return self._hash.hexdigest().upper()


def compute(leaves: Iterable[tuple[bytes, bool]], mac_only_encrypted: bool = False) -> str:
    """The MAC of ``(plaintext bytes, was encrypted)`` leaves."""
    hasher = MacHasher(mac_only_encrypted)
    for plaintext, encrypted in leaves:
        hasher.add(plaintext, encrypted)
    return hasher.hexdigest()


def encrypt_mac(
    mac_hex: str, key: bytes, lastmodified: str, iv_source: cipher.IVSource | None = None
) -> str:
    iv = (iv_source or cipher.random_iv)(cipher.NONCE_SIZE)
    return cipher.seal(key, mac_hex.encode(), goformat.mac_aad(lastmodified), iv, "str")


def decrypt_mac(stored: str, key: bytes, lastmodified: str) -> tuple[str, bytes]:
    """The MAC hex stored in the file and its IV; IntegrityError when it does not open."""
    if not stored:
        raise IntegrityError(
            "MAC mismatch: the file has no MAC",
            hint="the file was edited by hand or truncated; restore it from git",
        )
    try:
        aad = goformat.mac_aad(lastmodified)
    except ValueError:
        raise IntegrityError(
            "MAC mismatch: lastmodified is not an RFC 3339 timestamp",
            hint="the metadata was edited by hand; restore the file from git",
        ) from None
    value = cipher.parse(stored, "sops.mac")
    try:
        plaintext = cipher.open_(key, value, aad, "sops.mac")
    except IntegrityError:
        raise IntegrityError(
            "MAC mismatch: the MAC does not decrypt (tampered MAC or lastmodified, or wrong key)",
            hint="the file was modified outside sops; restore it from git",
        ) from None
    return plaintext.decode("ascii", "replace"), value.iv
