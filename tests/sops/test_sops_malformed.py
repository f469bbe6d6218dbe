# ruff: noqa: E501  (a table of exact one-line messages reads best unwrapped)
"""Broken input as a table: each malformed file → its exact one-line message and exit code."""

from __future__ import annotations

import pytest

from secretkit.errors import EXIT_USER, SecretkitError
from secretkit.sops import document
from secretkit.sops.metadata import Metadata

KEY = bytes(range(32))
GOOD_ENC = "ENC[AES256_GCM,data:zA==,iv:uPUK8P7a6Wl8W2GvKSvwv8XFqOALmMv+9MmasqdQlmE=,tag:RguYw94VjFZrkYN/2WVKRw==,type:int]"
YAML_HINT = " (hint: fix the file's YAML syntax)"
META_HINT = " (hint: restore the file from git)"

LOAD_CASES = [
    ("yaml", b"a: b\n",
     "not a sops file: no sops metadata found (yaml) (hint: "
     "encrypt it with `secretkit encrypt -i FILE`, or restore it from git if it was damaged)"),
    ("yaml", b"a: [\n",
     "malformed YAML at line 2, column 1: expected the node content, but found <text>" + YAML_HINT),
    ("yaml", b"a: 1\na: 2\nsops: {}\n", "malformed YAML at line 2: duplicate key 'a'" + YAML_HINT),
    ("yaml", b"1: x\nsops: {}\n", "malformed YAML at line 1: only string keys are supported" + YAML_HINT),
    ("yaml", b"true: x\nsops: {}\n", "malformed YAML at line 1: only string keys are supported" + YAML_HINT),
    ("yaml", b"? [a]\n: x\nsops: {}\n", "malformed YAML at line 1: only string keys are supported" + YAML_HINT),
    ("yaml", b"- a\n",
     "malformed YAML at line 1: the top level of a document must be a mapping" + YAML_HINT),
    ("yaml", b"a: b\nsops: 3\n", "malformed sops metadata: the sops entry is not a mapping" + META_HINT),
    ("yaml", b"a: b\nsops:\n    enabled: true\n",
     "not a sops file: the sops metadata has no lastmodified (hint: a top-level 'sops' key is reserved for sops metadata)"),
    ("yaml", b"a: b\nsops:\n    unencrypted_suffix: x\n    encrypted_regex: y\n",
     "malformed sops metadata: more than one crypt rule (unencrypted_suffix, encrypted_regex) "
     "(hint: a sops file may set at most one of the *_suffix / *_regex rules)"),
    ("yaml", b"a: b\nsops:\n    encrypted_regex: (?=x)\n",
     "unsupported regular expression in encrypted_regex: look-around assertions are not supported "
     "by Go's RE2 (hint: use plain RE2 syntax that Python's re also understands)"),
    ("yaml", b"a: b\nsops:\n    unencrypted_regex: '[a'\n",
     "invalid regular expression in unencrypted_regex: unterminated character set at position 0 "
     "(hint: check the regex syntax (Go RE2))"),
    ("yaml", b"a: b\nsops:\n    age: 3\n", "malformed sops metadata: age must be a list" + META_HINT),
    ("yaml", b"a: b\nsops:\n    shamir_threshold: x\n",
     "malformed sops metadata: shamir_threshold must be an integer" + META_HINT),
    ("yaml", b"\xff\xfe", "malformed YAML: the file is not UTF-8 text"),
    ("json", b'{"a": 1', "malformed JSON at line 1, column 8: Expecting ',' delimiter (hint: fix the file's JSON syntax)"),
    ("json", b"[1]", "malformed JSON: the top level must be an object"),
    ("json", b'{"a": 1, "a": 2}', "malformed JSON: duplicate key 'a'"),
    ("json", b'{"a": NaN}', "malformed JSON: unsupported number or nesting"),
    ("dotenv", b"novalue\n",
     "malformed dotenv file: line 1 is not KEY=VALUE (hint: every line must be KEY=VALUE or a #comment)"),
    ("dotenv", b"A=1\nA=2\n", "malformed dotenv file: duplicate key 'A' on line 2"),
    ("ini", b"[s\n", "malformed INI file: bad section header on line 1"),
    ("ini", b"[s]\nnovalue\n",
     "malformed INI file: line 2 is not key = value (hint: every line must be [section], key = value or a comment)"),
    ("binary", b"garbage: [\n",
     "not a sops file: neither a JSON nor a YAML envelope (binary) (hint: sops stores a file "
     "of this type as JSON with a 'data' and a 'sops' key; restore it from git if it was one)"),
    # a Nix file is no sops file, not "malformed JSON" to fix (secretkit decrypt flake.nix)
    ("binary", b"{ outputs = { ... }: { }; }\n",
     "not a sops file: neither a JSON nor a YAML envelope (binary) (hint: sops stores a file "
     "of this type as JSON with a 'data' and a 'sops' key; restore it from git if it was one)"),
    ("toml", b"", "unknown file format 'toml' (hint: use one of yaml, json, dotenv, ini, binary)"),
]  # fmt: skip


@pytest.mark.parametrize(("fmt", "data", "message"), LOAD_CASES)
def test_malformed_file(fmt: str, data: bytes, message: str) -> None:
    with pytest.raises(SecretkitError) as info:
        document.load_encrypted(data, fmt)
    assert info.value.one_line() == message
    assert info.value.exit_code == EXIT_USER


def _file(value: str) -> bytes:
    return (
        f"a: {value}\nsops:\n"
        '    lastmodified: "2026-01-01T00:00:00Z"\n'
        f"    mac: {GOOD_ENC}\n"
        "    version: 3.13.2\n"
    ).encode()


VALUE_CASES = [
    (GOOD_ENC.replace("iv:uPUK", "iv:!!UK"),
     "malformed encrypted value at a: iv is not valid base64 (hint: the file is damaged; restore it from git)"),
    (GOOD_ENC.replace("data:zA==", "data:zA="),
     "malformed encrypted value at a: data is not valid base64 (hint: the file is damaged; restore it from git)"),
    (GOOD_ENC[:40],
     "malformed encrypted value at a: not an ENC[AES256_GCM,...] string "
     "(hint: the file is damaged or not a sops file; restore it from git)"),
    ("7", "value at a should be encrypted but is a plain int (hint: the file was edited by hand; restore it from git)"),
    (GOOD_ENC.replace("type:int", "type:blob"),
     "malformed encrypted value at a: unknown type 'blob' (hint: the file is damaged; restore it from git)"),
]  # fmt: skip


@pytest.mark.parametrize(("value", "message"), VALUE_CASES)
def test_malformed_value(value: str, message: str) -> None:
    sops = document.load_encrypted(_file(value), "yaml")
    with pytest.raises(SecretkitError) as info:
        document.decrypt(sops, KEY)
    assert info.value.one_line() == message
    assert info.value.exit_code == EXIT_USER


def test_a_plain_file_with_a_sops_key_is_not_an_encrypted_file() -> None:
    assert not document.is_sops_file(b"sops:\n    enabled: true\npassword: x\n", "yaml")


def test_malformed_plain_inputs() -> None:
    with pytest.raises(SecretkitError) as info:
        document.dump_plain(document.new_plain("dotenv", {"a": {"b": "c"}}))
    assert info.value.one_line() == "cannot write a nested value to a dotenv file (key 'a')"
    with pytest.raises(SecretkitError) as info:
        document.new_plain("yaml", {1: "x"})
    assert "string keys" in info.value.one_line()


def test_reserved_sops_key_is_refused_on_encrypt() -> None:
    plain = document.new_plain("yaml", {"sops": "x"})
    with pytest.raises(SecretkitError) as info:
        document.encrypt(plain, KEY, Metadata())
    assert info.value.one_line() == (
        "the top-level key 'sops' is reserved for the sops metadata "
        "(hint: rename that key before encrypting)"
    )


def _sample() -> bytes:
    plain = document.new_plain("yaml", {"a": "secret-value"})
    meta = Metadata(lastmodified="", version="")
    return document.dump(document.encrypt(plain, KEY, meta))


def test_truncated_files() -> None:
    data = _sample()
    cut_in_mac = data[: data.index(b"    mac: ") + 40]
    with pytest.raises(SecretkitError) as info:
        document.decrypt(document.load_encrypted(cut_in_mac, "yaml"), KEY)
    assert info.value.one_line() == (
        "malformed encrypted value at sops.mac: not an ENC[AES256_GCM,...] string "
        "(hint: the file is damaged or not a sops file; restore it from git)"
    )
    cut_before_metadata = data[: data.index(b"sops:")]
    with pytest.raises(SecretkitError) as info:
        document.load_encrypted(cut_before_metadata, "yaml")
    assert info.value.one_line().startswith("not a sops file: no sops metadata found")
    json_data = document.dump(
        document.encrypt(document.new_plain("json", {"a": "b"}), KEY, Metadata())
    )
    with pytest.raises(SecretkitError) as info:
        document.load_encrypted(json_data[:50], "json")
    assert info.value.one_line().startswith("malformed JSON at line 2")
    assert "secret-value" not in info.value.one_line()
