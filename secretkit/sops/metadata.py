"""The ``sops`` metadata block as data (shared by the stores and the key sources).

The stores turn the block of a file into a :class:`Metadata` and back (their
module decides the layout: field order per writing version, empty lists, dotenv
and INI flattening).  The key sources (``secretkit.sops.keysources``) turn a
:class:`KeyEntry` into a data key and a recipient into a :class:`KeyEntry`.
Nothing here does cryptography.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The master-key kinds sops knows, in the order sops forms a key group without
# ``key_groups`` and the names used in the metadata block.
KEY_KINDS: tuple[str, ...] = ("age", "pgp", "kms", "gcp_kms", "hckms", "azure_kv", "hc_vault")

# The six encryption rules; at most one may be set.
CRYPT_RULES: tuple[str, ...] = (
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
)

DEFAULT_UNENCRYPTED_SUFFIX = "_unencrypted"


@dataclass
class KeyEntry:
    """One master key of a key group, as stored in the file.

    ``kind`` is one of :data:`KEY_KINDS`; ``fields`` holds the entry's string
    fields exactly as read or to be written (``{"recipient": ..., "enc": ...}`` for
    age, ``{"created_at": ..., "enc": ..., "fp": ...}`` for PGP, cloud entries kept
    verbatim).  The store decides the order of fields on output.
    """

    kind: str
    fields: dict[str, str]
    # Non-string fields of foreign entries (e.g. a KMS ``context`` mapping), kept as
    # read so that rewriting the file does not lose them.
    nested: dict[str, object] = field(default_factory=dict)

    @property
    def enc(self) -> str:
        return self.fields.get("enc", "")

    @property
    def ident(self) -> str:
        """The recipient / fingerprint / resource this entry is for."""
        for name in (
            "recipient",
            "fp",
            "arn",
            "resource_id",
            "key_id",
            "vault_url",
            "vault_address",
        ):
            if name in self.fields:
                return self.fields[name]
        return ""

    def __repr__(self) -> str:  # enc blobs are long and not useful in reprs
        return f"KeyEntry({self.kind}, {self.ident!r})"


@dataclass
class CryptRule:
    """Which values get encrypted: one of :data:`CRYPT_RULES` and its value."""

    kind: str = "unencrypted_suffix"
    value: str = DEFAULT_UNENCRYPTED_SUFFIX


@dataclass
class Metadata:
    """The parsed ``sops`` block."""

    key_groups: list[list[KeyEntry]] = field(default_factory=list)
    shamir_threshold: int = 0
    lastmodified: str = ""
    mac: str = ""
    version: str = ""
    crypt_rule: CryptRule | None = field(default_factory=CryptRule)
    mac_only_encrypted: bool = False
    # True when the file listed ``key_groups`` explicitly (≥2 groups are always written so).
    explicit_key_groups: bool = False
    # Any key of the block we do not know, preserved verbatim on rewrite.
    extra: dict[str, object] = field(default_factory=dict)
    # The block's keys as read (flattened keys for dotenv/INI); the layout of a
    # rewritten file follows it (empty key lists kept, dotenv/INI line order kept).
    source_order: tuple[str, ...] = ()

    def all_keys(self) -> list[KeyEntry]:
        return [entry for group in self.key_groups for entry in group]
