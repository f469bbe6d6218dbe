"""MAC figures from real sops files (facts), and the MAC's encryption with lastmodified."""

from __future__ import annotations

import base64

import pytest

from secretkit.errors import IntegrityError
from secretkit.sops import mac
from tests.sops.test_sops_cipher import SOPS_NIX_KEY

# sops-nix secrets.yaml (sops 3.7.1): leaves test_value, e1, e3, another value.
SOPS_NIX_MAC = (
    "AF7CB2C2E17458555FC6A3F0E6FA3A8AF04EAF01E46217C09367E77BDEEBF367"
    "2D89F8E1F01A48E1D6C83E1FB4C958C783A7E073A45040330E08672C0BF15273"
)
SOPS_NIX_LASTMODIFIED = "2021-09-30T19:49:41Z"
SOPS_NIX_MAC_ENC = (
    "ENC[AES256_GCM,data:WQjpNaji5Jg/0m0brFXernN+n+zwroiyFRGmhXE2T13THjnxlPyTxkjTIf3oJlAwpeIsfaCCxRdBSJC1B9s3"
    "XaqCWHTY4wEOdZ5f+oNBlMxbwKyN5t+GG2CRdpoMsIQ/bBJ+v8LM5BEa3qNXQ6TwWrnhAXWWPRjRa1LsguvI+TM=,"
    "iv:fwWjzvLA2cYJNnanm/vw5yE1tXtGU2amZfhw3Ha5zbo=,tag:6FT1M6fqJfUX8E10pvEehw==,type:str]"
)


def test_mac_over_plaintext_leaves_without_separators() -> None:
    leaves = [(b"test_value", True), (b"e1", True), (b"e3", True), (b"another value", True)]
    assert mac.compute(leaves) == SOPS_NIX_MAC


def test_mac_includes_unencrypted_leaves_unless_mac_only_encrypted() -> None:
    leaves = [(b"secret", True), (b"clear", False)]
    assert mac.compute(leaves) == mac.compute([(b"secretclear", True)])
    only = mac.compute(leaves, mac_only_encrypted=True)
    assert only != mac.compute([(b"secret", True)])  # the sha256("sops") prefix
    assert only == mac.compute([(mac.MAC_ONLY_ENCRYPTED_INIT + b"secret", True)])
    assert mac.MAC_ONLY_ENCRYPTED_INIT.hex() == (
        "8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69"
    )


def test_mac_encryption_known_answer() -> None:
    iv = base64.b64decode("fwWjzvLA2cYJNnanm/vw5yE1tXtGU2amZfhw3Ha5zbo=")
    assert (
        mac.encrypt_mac(SOPS_NIX_MAC, SOPS_NIX_KEY, SOPS_NIX_LASTMODIFIED, lambda n: iv)
        == SOPS_NIX_MAC_ENC
    )
    hex_, got_iv = mac.decrypt_mac(SOPS_NIX_MAC_ENC, SOPS_NIX_KEY, SOPS_NIX_LASTMODIFIED)
    assert hex_ == SOPS_NIX_MAC
    assert got_iv == iv


def test_lastmodified_is_reformatted_before_use_as_aad() -> None:
    # A fraction or a lower-case z does not change the RFC 3339 form sops uses.
    hex_, _ = mac.decrypt_mac(SOPS_NIX_MAC_ENC, SOPS_NIX_KEY, "2021-09-30T19:49:41.123Z")
    assert hex_ == SOPS_NIX_MAC


@pytest.mark.parametrize("lastmodified", ["2021-09-30T19:49:42Z", "2021-09-30T21:49:41+02:00"])
def test_tampered_lastmodified_fails(lastmodified: str) -> None:
    with pytest.raises(IntegrityError, match="MAC mismatch"):
        mac.decrypt_mac(SOPS_NIX_MAC_ENC, SOPS_NIX_KEY, lastmodified)


def test_missing_mac_is_an_integrity_error() -> None:
    with pytest.raises(IntegrityError, match="no MAC"):
        mac.decrypt_mac("", SOPS_NIX_KEY, SOPS_NIX_LASTMODIFIED)
