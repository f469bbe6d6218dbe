"""The spec gaps no real-sops fixture covers, checked by the independent npm reader
(tests/interop: sops-age decrypts, sops-decoder re-derives every value and the MAC):
mac_only_encrypted, the regex and suffix rules, comment rules, inline comments."""

from __future__ import annotations

from pathlib import Path

import pyrage
import pytest

from secretkit.sops import document
from secretkit.sops.metadata import CryptRule, KeyEntry, Metadata
from tests.sops.test_sops_interop import read_with_npm

SOURCE = b"""\
# top comment
db:
    password: not-real # inline note
    port: 5432
    ratio: 0.25
list:
    - a
    - nested: value
flag: true
secret_enc: x
plain_unencrypted: y
"""

CASES = {
    "default": (CryptRule(), False),
    "mac_only_encrypted": (CryptRule(), True),
    "encrypted_regex": (CryptRule("encrypted_regex", "^(password|list)$"), False),
    "unencrypted_regex": (CryptRule("unencrypted_regex", "^port$"), False),
    "encrypted_suffix": (CryptRule("encrypted_suffix", "_enc"), True),
    "unencrypted_comment_regex": (CryptRule("unencrypted_comment_regex", "inline"), False),
    "encrypted_comment_regex": (CryptRule("encrypted_comment_regex", "inline"), False),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_npm_reader_opens_and_verifies(tmp_path: Path, name: str) -> None:
    rule, mac_only = CASES[name]
    identity = pyrage.x25519.Identity.generate()
    keyfile = tmp_path / "keys.txt"
    keyfile.write_text(f"{identity}\n")
    data_key = bytes(range(32))
    enc = pyrage.encrypt(data_key, [identity.to_public()], armored=True).decode()
    meta = Metadata(
        key_groups=[[KeyEntry("age", {"recipient": str(identity.to_public()), "enc": enc})]],
        crypt_rule=rule,
        mac_only_encrypted=mac_only,
    )
    source = SOURCE
    if rule.kind.endswith("comment_regex"):
        # The npm reader falls back to the `_unencrypted` suffix whenever the file sets
        # no suffix; sops (and secretkit) apply the default only when no rule is set.
        source = source.replace(b"plain_unencrypted: y\n", b"")
    plain = document.load_plain(source, "yaml")
    out = document.dump(document.encrypt(plain, data_key, meta))
    path = tmp_path / "file.yaml"
    path.write_bytes(out)
    assert read_with_npm(path, "yaml", keyfile) == plain.to_python()
