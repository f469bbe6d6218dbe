"""age recipients (X25519 ``age1…`` and ``ssh-ed25519``/``ssh-rsa``) through pyrage.

``enc`` is the ASCII-armored age file of the raw key bytes, for exactly one
recipient, ending in a newline (YAML shows it as ``enc: |``), as sops writes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyrage
from pyrage import ssh, x25519

from secretkit.errors import ConfigError
from secretkit.sops.metadata import KeyEntry

if TYPE_CHECKING:
    from secretkit.sops.identities import Identities

_SSH_KINDS = ("ssh-ed25519", "ssh-rsa")


def normalize_recipient(text: str) -> str:
    """``age1…`` as is; an ssh public key without its comment."""
    text = text.strip()
    parts = text.split()
    if len(parts) >= 2 and parts[0] in _SSH_KINDS:
        return f"{parts[0]} {parts[1]}"
    return text


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:36] + "…"


def recipient_object(text: str) -> object:
    """The pyrage recipient for ``text``; ConfigError naming the (public) recipient."""
    text = normalize_recipient(text)
    try:
        if text.split(" ", 1)[0] in _SSH_KINDS:
            return ssh.Recipient.from_str(text)
        return x25519.Recipient.from_str(text)
    except (pyrage.RecipientError, ValueError):
        pass
    if text.startswith("age1") and len(text) > 62:
        raise ConfigError(
            f"unsupported age recipient {_short(text)} (post-quantum and plugin recipients "
            "are not supported)",
            hint="use an X25519 age1… or an ssh-ed25519 recipient",
        )
    raise ConfigError(
        f"not a valid age recipient: {_short(text)}",
        hint="age recipients look like age1… (62 characters) or 'ssh-ed25519 AAAA…'",
    )


class AgeKeySource:
    kind = "age"

    def parse_recipient(self, text: str) -> str:
        recipient_object(text)
        return normalize_recipient(text)

    def wrap(self, recipient: str, data_key: bytes) -> KeyEntry:
        recipient = normalize_recipient(recipient)
        target = recipient_object(recipient)
        armored = pyrage.encrypt(data_key, [target], armored=True).decode("ascii")
        if not armored.endswith("\n"):
            armored += "\n"
        return KeyEntry("age", {"recipient": recipient, "enc": armored})

    def unwrap(self, entry: KeyEntry, identities: Identities) -> bytes | None:
        if not identities.age or not entry.enc:
            return None
        try:
            return bytes(pyrage.decrypt(entry.enc.encode("utf-8"), list(identities.age)))
        except (pyrage.DecryptError, ValueError, UnicodeError):
            return None
