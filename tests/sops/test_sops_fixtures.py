"""Every real-sops fixture decrypts to its expected plaintext with its MAC verified, and
re-encrypting it with its own IVs and lastmodified reproduces the file byte for byte.

The data keys come from ``expected/*.json`` (unwrapping them is the key sources' job).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secretkit.errors import IntegrityError
from secretkit.sops import document
from tests.conftest import FIXTURES


def _manifest() -> list[dict[str, object]]:
    path = FIXTURES / "manifest.json"
    if not path.is_file():
        return []
    fixtures: list[dict[str, object]] = json.loads(path.read_text())["fixtures"]
    return fixtures


FIXTURE_ENTRIES = _manifest()
IDS = [str(entry["file"]) for entry in FIXTURE_ENTRIES]

# Files that a modern sops cannot reproduce either, and why.
NOT_REPRODUCIBLE = {
    "getsops-sops/functional-tests/comments_unencrypted_comments.yaml": (
        "written by sops 3.3.1, which left comments in clear; every later sops (and "
        "secretkit) encrypts comments on re-encryption, which needs fresh IVs"
    ),
    "getsops-sops/functional-tests/no_mac.yaml": (
        "the file has no MAC; re-encryption always writes one (fresh IV, new line)"
    ),
}


def _expected(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(
        (FIXTURES / "expected" / (name.replace("/", "__") + ".json")).read_text()
    )
    return data


def _load(entry: dict[str, object]) -> tuple[bytes, str, document.SopsFile, bytes]:
    name = str(entry["file"])
    fmt = str(entry.get("format") or document.format_for_path(name))
    data = (FIXTURES / name).read_bytes()
    key = bytes.fromhex(str(_expected(name)["data_key_hex"]))
    return data, fmt, document.load_encrypted(data, fmt), key


def _no_new_iv(size: int) -> bytes:
    raise AssertionError("re-encryption needed a fresh IV for an unchanged value")


def test_fixture_count(sops_fixtures: Path) -> None:
    assert len(FIXTURE_ENTRIES) == 25


@pytest.mark.parametrize("entry", FIXTURE_ENTRIES, ids=IDS)
def test_fixture_decrypts_to_expected(sops_fixtures: Path, entry: dict[str, object]) -> None:
    name = str(entry["file"])
    expected = _expected(name)
    _data, fmt, sops, key = _load(entry)
    verify = "no_mac" not in name
    plain = document.decrypt(sops, key, verify_mac=verify)
    if fmt == "binary":
        assert plain.get(["data"]) == expected["plaintext"]
    else:
        assert plain.to_python() == expected["plaintext"]


REPRODUCIBLE = [e for e in FIXTURE_ENTRIES if str(e["file"]) not in NOT_REPRODUCIBLE]


def test_only_the_documented_fixtures_are_not_reproducible(sops_fixtures: Path) -> None:
    assert len(REPRODUCIBLE) == 23
    assert set(NOT_REPRODUCIBLE) <= set(IDS)


@pytest.mark.parametrize("entry", REPRODUCIBLE, ids=[str(e["file"]) for e in REPRODUCIBLE])
def test_fixture_reencrypts_byte_for_byte(sops_fixtures: Path, entry: dict[str, object]) -> None:
    data, _fmt, sops, key = _load(entry)
    plain = document.decrypt(sops, key)
    again = document.encrypt(plain, key, sops.metadata, touch=False, iv_source=_no_new_iv)
    assert again.metadata.mac == sops.metadata.mac
    assert document.dump(again) == data


def test_no_mac_fixture_is_refused_unless_asked(sops_fixtures: Path) -> None:
    entry = next(e for e in FIXTURE_ENTRIES if "no_mac" in str(e["file"]))
    _data, _fmt, sops, key = _load(entry)
    with pytest.raises(IntegrityError, match="no MAC"):
        document.decrypt(sops, key)
    plain = document.decrypt(sops, key, verify_mac=False)
    assert plain.to_python() == {"myapp1": "t00m4nys3cr3tzupdated"}
    # Re-encrypted with its own IVs, the file comes back byte for byte but for the
    # MAC line that every write adds (the only fresh IV: values come from the stash).
    fresh: list[int] = []
    again = document.dump(
        document.encrypt(
            plain, key, sops.metadata, touch=False, iv_source=lambda n: bytes(fresh.append(n) or n)
        )
    )
    assert fresh == [32]
    mac_lines = [line for line in again.splitlines() if line.lstrip().startswith(b"mac: ENC[")]
    assert len(mac_lines) == 1
    assert again.replace(mac_lines[0] + b"\n", b"") == _data


def test_clear_comments_of_old_sops_are_kept_and_encrypted_on_rewrite(sops_fixtures: Path) -> None:
    entry = next(e for e in FIXTURE_ENTRIES if "comments_unencrypted" in str(e["file"]))
    _data, fmt, sops, key = _load(entry)
    plain = document.decrypt(sops, key)
    again = document.dump(document.encrypt(plain, key, sops.metadata, touch=False))
    reloaded = document.decrypt(document.load_encrypted(again, fmt), key)
    assert reloaded.to_python() == {"lorem": "ipsum", "dolor": "sit"}
    assert b"# first comment in file" not in again
    assert document.dump_plain(reloaded).startswith(b"# first comment in file\nlorem: ipsum\n")


@pytest.mark.parametrize("entry", FIXTURE_ENTRIES, ids=IDS)
def test_fixture_comments_decrypt_with_container_aad(
    sops_fixtures: Path, entry: dict[str, object]
) -> None:
    name = str(entry["file"])
    expected = _expected(name)
    _data, _fmt, sops, key = _load(entry)
    plain = document.decrypt(sops, key, verify_mac="no_mac" not in name)
    texts = []
    from secretkit.sops.tree import Comment, Map, Seq

    def collect(value: object) -> None:
        if isinstance(value, Map):
            for item in value:
                if isinstance(item, Comment):
                    texts.append(item.text)
                else:
                    collect(item[1])
        elif isinstance(value, Seq):
            for child in value:
                collect(child)

    for doc in plain.docs:
        collect(doc)
    wanted = [c["text"] for c in expected["decrypted_comments"]]  # type: ignore[attr-defined, index]
    assert [t for t in texts if t in wanted] == wanted


def test_binary_store_accepts_a_yaml_envelope(sops_fixtures: Path) -> None:
    name = "community-sops/hidden-binary-yaml"
    data = (FIXTURES / name).read_bytes()
    key = bytes.fromhex(str(_expected(name)["data_key_hex"]))
    sops = document.load_encrypted(data, "binary")
    plain = document.decrypt(sops, key)
    assert document.dump_plain(plain) == b"This is binary data.\n"
    again = document.encrypt(plain, key, sops.metadata, touch=False, iv_source=_no_new_iv)
    assert document.dump(again) == data
