"""Master-key sources: how a data key is wrapped for a recipient and unwrapped again.

A key source turns ``(recipient, data key)`` into a :class:`~secretkit.sops.metadata.KeyEntry`
(the ``enc`` blob sops stores in the metadata) and a ``KeyEntry`` plus the
user's identities back into the data key.  The registry is a literal dict; a test
iterates it.  Other kinds sops knows (kms, gcp_kms, ...) are preserved verbatim in
files but cannot be wrapped or unwrapped here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from secretkit.sops.keysources.age import AgeKeySource
from secretkit.sops.keysources.pgp import PgpKeySource
from secretkit.sops.metadata import KeyEntry

if TYPE_CHECKING:
    from secretkit.sops.identities import Identities


class KeySource(Protocol):
    """One master-key kind (``age``, ``pgp``)."""

    kind: str

    def parse_recipient(self, text: str) -> str:
        """The canonical recipient string; ConfigError when it is not one of this kind."""
        ...

    def wrap(self, recipient: str, data_key: bytes) -> KeyEntry:
        """Encrypt ``data_key`` (a 32-byte key or a 33-byte Shamir share) for ``recipient``."""
        ...

    def unwrap(self, entry: KeyEntry, identities: Identities) -> bytes | None:
        """The wrapped key, or None when no identity opens ``entry``."""
        ...


KEY_SOURCES: dict[str, KeySource] = {
    "age": AgeKeySource(),
    "pgp": PgpKeySource(),
}

# sops' default --decryption-order: age first, then pgp, then everything else.
DECRYPTION_ORDER: tuple[str, ...] = ("age", "pgp")


def ident_field(kind: str) -> str:
    """The metadata field naming the recipient of an entry of ``kind``."""
    return "recipient" if kind == "age" else "fp"


__all__ = ["DECRYPTION_ORDER", "KEY_SOURCES", "KeySource", "ident_field"]
