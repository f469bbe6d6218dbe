"""PGP recipients through python-gnupg and the system ``gpg`` (optional at run time).

``enc`` is the ASCII-armored OpenPGP message of the raw key bytes, without a
trailing newline (sops trims gpg's output: YAML ``enc: |-``).  The keyring is
gpg's own (``$GNUPGHOME``, else ``~/.gnupg``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from secretkit.errors import ConfigError, UserError
from secretkit.lazy_re import lazy
from secretkit.sops.gpg import gpg, gpg_available
from secretkit.sops.metadata import KeyEntry

if TYPE_CHECKING:
    from secretkit.sops.identities import Identities

_FINGERPRINT = lazy(r"^(?:0x)?[0-9A-Fa-f]{8,40}!?$")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class PgpKeySource:
    kind = "pgp"

    def parse_recipient(self, text: str) -> str:
        fingerprint = text.strip().replace(" ", "")
        if not _FINGERPRINT.match(fingerprint):
            shown = fingerprint if len(fingerprint) <= 48 else fingerprint[:44] + "…"
            raise ConfigError(
                f"not a PGP fingerprint: {shown!r}",
                hint="write the key's fingerprint as 40 hex digits",
            )
        return fingerprint

    def wrap(self, recipient: str, data_key: bytes) -> KeyEntry:
        fingerprint = self.parse_recipient(recipient)
        if not gpg_available():
            raise UserError(
                f"cannot encrypt for PGP key {fingerprint}: gpg is not installed",
                hint="install gnupg, or use age recipients in .sops.yaml",
            )
        result = gpg().encrypt(data_key, fingerprint.rstrip("!"), armor=True, always_trust=True)
        if not result.ok:
            raise UserError(
                f"gpg cannot encrypt for PGP key {fingerprint} ({result.status or 'failed'})",
                hint="import the public key into your gpg keyring (gpg --import)",
            )
        armored = str(result).strip()
        return KeyEntry("pgp", {"created_at": _now(), "enc": armored, "fp": fingerprint})

    def unwrap(self, entry: KeyEntry, identities: Identities) -> bytes | None:
        if not identities.gpg or not entry.enc or not gpg_available():
            return None
        try:
            result = gpg().decrypt(entry.enc)
        except (OSError, ValueError):
            return None
        if not result.ok:
            return None
        return bytes(result.data)
