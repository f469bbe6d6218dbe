"""The document API: round trips per format, crypt rules, metadata layouts, tampering."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from secretkit.errors import EXIT_INTEGRITY, IntegrityError, SecretkitError, UserError
from secretkit.sops import cipher, document
from secretkit.sops.metadata import CryptRule, KeyEntry, Metadata

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
NOW = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
AGE_ENC = "-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n"


def counter_ivs() -> object:
    state = {"n": 0}

    def source(size: int) -> bytes:
        state["n"] += 1
        return state["n"].to_bytes(size, "big")

    return source


def meta(rule: CryptRule | None = CryptRule(), **kw: object) -> Metadata:
    groups = kw.pop("groups", [[KeyEntry("age", {"recipient": "age1test", "enc": AGE_ENC})]])
    return Metadata(key_groups=groups, crypt_rule=rule, **kw)  # type: ignore[arg-type]


def roundtrip(
    fmt: str, data: bytes, metadata: Metadata | None = None
) -> tuple[bytes, document.PlainFile]:
    plain = document.load_plain(data, fmt)
    sops = document.encrypt(plain, KEY, metadata or meta(), now=NOW, iv_source=counter_ivs())  # type: ignore[arg-type]
    out = document.dump(sops)
    back = document.decrypt(document.load_encrypted(out, fmt), KEY)
    return out, back


def test_format_for_path() -> None:
    names = ("a.yaml", "b.yml", "c.json", "d.env", "e.ini", "f", "g.txt")
    assert [document.format_for_path(p) for p in names] == [
        "yaml", "yaml", "json", "dotenv", "ini", "binary", "binary"
    ]  # fmt: skip


def test_new_yaml_file_has_the_313_layout_byte_for_byte() -> None:
    out, back = roundtrip("yaml", b"a: b\n")
    text = out.decode()
    iv1 = base64.b64encode((1).to_bytes(32, "big")).decode()
    assert text.startswith("a: ENC[AES256_GCM,data:")
    assert f"iv:{iv1}" in text.splitlines()[0]
    assert text.split("sops:\n", 1)[1].startswith(
        "    age:\n"
        "        - enc: |\n"
        "            -----BEGIN AGE ENCRYPTED FILE-----\n"
        "            YWdl\n"
        "            -----END AGE ENCRYPTED FILE-----\n"
        "          recipient: age1test\n"
        '    lastmodified: "2026-01-02T03:04:05Z"\n'
        "    mac: ENC[AES256_GCM,"
    )
    assert text.endswith("    unencrypted_suffix: _unencrypted\n    version: 3.13.2\n")
    assert back.to_python() == {"a": "b"}


def test_new_json_file_layout() -> None:
    out, back = roundtrip("json", b'{"a": 1, "b": [true, null, 1.5], "c": {}}')
    text = out.decode()
    assert text.startswith('{\n\t"a": "ENC[AES256_GCM,data:')
    assert '\t"c": {},\n\t"sops": {\n\t\t"age": [\n\t\t\t{\n\t\t\t\t"enc": "-----BEGIN AGE' in text
    assert text.endswith('\t\t"version": "3.13.2"\n\t}\n}\n')
    assert back.to_python() == {"a": 1, "b": [True, None, 1.5], "c": {}}
    assert "type:int" in text.splitlines()[1]


def test_key_groups_and_shamir_threshold_are_written_in_313_layout() -> None:
    groups = [
        [KeyEntry("age", {"recipient": "age1one", "enc": AGE_ENC})],
        [KeyEntry("pgp", {"created_at": "2026-01-01T00:00:00Z", "enc": "PGP", "fp": "ABCD"})],
    ]
    out, _back = roundtrip("yaml", b"a: b\n", meta(groups=groups, shamir_threshold=2))
    block = out.decode().split("sops:\n", 1)[1]
    assert block.startswith(
        "    key_groups:\n"
        "        - age:\n"
        "            - enc: |\n"
        "                -----BEGIN AGE ENCRYPTED FILE-----\n"
        "                YWdl\n"
        "                -----END AGE ENCRYPTED FILE-----\n"
        "              recipient: age1one\n"
        "          hc_vault: []\n"
        "        - age: []\n"
        "          hc_vault: []\n"
        "          pgp:\n"
        '            - created_at: "2026-01-01T00:00:00Z"\n'
        "              enc: PGP\n"
        "              fp: ABCD\n"
        '    lastmodified: "2026-01-02T03:04:05Z"\n'
    )
    assert "    shamir_threshold: 2\n" in block
    loaded = document.load_encrypted(out, "yaml").metadata
    assert loaded.shamir_threshold == 2
    assert [[e.ident for e in g] for g in loaded.key_groups] == [["age1one"], ["ABCD"]]


def test_key_groups_in_dotenv_and_ini_are_flattened() -> None:
    groups = [
        [KeyEntry("age", {"recipient": "age1one", "enc": AGE_ENC})],
        [KeyEntry("age", {"recipient": "age1two", "enc": AGE_ENC})],
    ]
    out, back = roundtrip("dotenv", b"A=1\n", meta(groups=groups, shamir_threshold=2))
    assert b"sops_key_groups__list_1__map_age__list_0__map_recipient=age1two\n" in out
    assert b"sops_shamir_threshold=2\n" in out
    assert back.to_python() == {"A": "1"}
    loaded = document.load_encrypted(out, "dotenv").metadata
    assert loaded.shamir_threshold == 2 and len(loaded.key_groups) == 2
    out, back = roundtrip("ini", b"[s]\nk = v\n", meta(groups=groups, shamir_threshold=2))
    assert b"key_groups__list_0__map_age__list_0__map_enc " in out
    assert document.load_encrypted(out, "ini").metadata.shamir_threshold == 2


def _encrypted_keys(text: str) -> set[str]:
    keys = set()
    for line in text.split("sops:\n")[0].splitlines():
        if ": ENC[" in line:
            keys.add(line.split(":")[0].strip().lstrip("- "))
    return keys


RULE_SOURCE = b"""\
plain: a
secret_enc: b
parent_enc:
    child: c
password: d
data:
    inner: e
"""


@pytest.mark.parametrize(
    ("rule", "encrypted"),
    [
        (CryptRule("unencrypted_suffix", "_enc"), {"plain", "password", "inner"}),
        (CryptRule("encrypted_suffix", "_enc"), {"secret_enc", "child"}),
        (CryptRule("unencrypted_regex", "^pa"), {"plain", "secret_enc", "inner"}),
        (CryptRule("encrypted_regex", "^(data|password)$"), {"password", "inner"}),
    ],
)
def test_key_rules_apply_to_every_key_on_the_path(rule: CryptRule, encrypted: set[str]) -> None:
    out, back = roundtrip("yaml", RULE_SOURCE, meta(rule))
    assert _encrypted_keys(out.decode()) == encrypted
    assert f"    {rule.kind}: {rule.value}\n" in out.decode() or rule.kind.endswith("regex")
    assert back.to_python() == document.load_plain(RULE_SOURCE, "yaml").to_python()


COMMENT_SOURCE = b"""\
# sops:enc
secret: a
plain: b
# note
other: c
"""


def test_encrypted_comment_regex() -> None:
    out, back = roundtrip(
        "yaml", COMMENT_SOURCE, meta(CryptRule("encrypted_comment_regex", "sops:enc"))
    )
    lines = out.decode().splitlines()
    assert lines[0] == "# sops:enc"  # the matching comment itself stays clear
    assert lines[1].startswith("secret: ENC[")
    assert lines[2] == "plain: b"
    assert lines[3] == "# note" and lines[4] == "other: c"
    assert document.dump_plain(back) == COMMENT_SOURCE


def test_unencrypted_comment_regex() -> None:
    out, back = roundtrip(
        "yaml", COMMENT_SOURCE, meta(CryptRule("unencrypted_comment_regex", "sops:enc"))
    )
    lines = out.decode().splitlines()
    assert lines[0] == "# sops:enc" and lines[1] == "secret: a"
    assert lines[2].startswith("plain: ENC[") and lines[3].startswith("#ENC[")
    assert document.dump_plain(back) == COMMENT_SOURCE


def test_unencrypted_comment_regex_that_matches_enc_strings_is_refused() -> None:
    plain = document.load_plain(b"# x\na: b\n", "yaml")
    with pytest.raises(UserError, match="matches unencrypted_comment_regex"):
        document.encrypt(plain, KEY, meta(CryptRule("unencrypted_comment_regex", "ENC")))


def test_no_crypt_rule_means_the_default_suffix_and_none_is_written() -> None:
    out, back = roundtrip("json", b'{"a_unencrypted": "x", "b": "y"}', meta(None))
    assert b'"a_unencrypted": "x"' in out
    assert b"unencrypted_suffix" not in out
    assert back.to_python() == {"a_unencrypted": "x", "b": "y"}


def test_mac_only_encrypted() -> None:
    source = b"clear_unencrypted: x\nsecret: y\n"
    out, back = roundtrip("yaml", source, meta(mac_only_encrypted=True))
    assert b"    mac_only_encrypted: true\n" in out
    sops = document.load_encrypted(out, "yaml")
    assert sops.metadata.mac_only_encrypted
    # changing a clear value is not covered by such a MAC ...
    edited = document.load_encrypted(
        out.replace(b"clear_unencrypted: x", b"clear_unencrypted: z"), "yaml"
    )
    assert document.decrypt(edited, KEY).get(["clear_unencrypted"]) == "z"
    # ... but it is by the default MAC
    normal, _ = roundtrip("yaml", source)
    tampered = document.load_encrypted(
        normal.replace(b"clear_unencrypted: x", b"clear_unencrypted: z"), "yaml"
    )
    with pytest.raises(IntegrityError, match="MAC mismatch"):
        document.decrypt(tampered, KEY)
    # the two MACs differ (sha256("sops") prefix)
    a = document.decrypt(document.load_encrypted(out, "yaml"), KEY)
    assert a.to_python() == back.to_python()


def test_multi_document_yaml_carries_a_block_per_document() -> None:
    out, back = roundtrip("yaml", b"a: 1\n---\nb: 2\n")
    assert out.count(b"\nsops:\n") == 2
    assert out.count(b"\n---\n") == 1
    assert back.to_python() == [{"a": 1}, {"b": 2}]
    assert document.dump_plain(back) == b"a: 1\n---\nb: 2\n"


def test_reencryption_keeps_unchanged_ciphertexts() -> None:
    out, _ = roundtrip("yaml", b"a: one\nb: two\n")
    sops = document.load_encrypted(out, "yaml")
    plain = document.decrypt(sops, KEY)
    plain.set(["b"], "changed")
    again = document.dump(document.encrypt(plain, KEY, sops.metadata, now=NOW))
    old_lines, new_lines = out.splitlines(), again.splitlines()
    assert old_lines[0] == new_lines[0]
    assert old_lines[1] != new_lines[1]


def test_plain_file_accessors() -> None:
    plain = document.load_plain(b"a:\n    b: 1\n    l:\n        - x\n        - y\n", "yaml")
    assert plain.get(["a", "l", 1]) == "y"
    plain.set(["a", "c", "d"], "new")
    plain.set(["a", "b"], 2)
    assert list(plain.leaves()) == [
        (("a", "b"), 2), (("a", "l", 0), "x"), (("a", "l", 1), "y"), (("a", "c", "d"), "new")
    ]  # fmt: skip
    plain.delete(["a", "l"])
    assert plain.to_python() == {"a": {"b": 2, "c": {"d": "new"}}}
    with pytest.raises(UserError, match="no value at a:zz"):
        plain.get(["a", "zz"])
    with pytest.raises(UserError, match="not a mapping"):
        plain.set(["a", "b", "x"], "v")


def test_dotenv_round_trip_keeps_lines() -> None:
    source = b"#comment\nfoo =  bar \nMULTI=a\\nb\nEMPTY=\n"
    out, back = roundtrip("dotenv", source)
    assert back.to_python() == {"foo ": "  bar ", "MULTI": "a\nb", "EMPTY": ""}
    assert b"EMPTY=\n" in out
    assert document.dump_plain(back) == source


def test_ini_round_trip() -> None:
    source = b"; about s\n[s]\nkey = value\nlonger_key = x\n\n[t]\nk = v\n"
    out, back = roundtrip("ini", source)
    assert back.to_python() == {"s": {"key": "value", "longer_key": "x"}, "t": {"k": "v"}}
    assert b"[sops]\n" in out
    assert (
        document.dump_plain(back)
        == b"; about s\n[s]\nkey        = value\nlonger_key = x\n\n[t]\nk = v\n"
    )


def test_binary_round_trip_any_bytes() -> None:
    raw = bytes(range(256)) + b"\n\n"
    out, back = roundtrip("binary", raw, meta(None))
    assert out.startswith(b'{\n\t"data": "ENC[AES256_GCM,')
    assert document.dump_plain(back) == raw


def test_unknown_metadata_keys_are_preserved() -> None:
    out, _ = roundtrip("yaml", b"a: b\n")
    edited = out.replace(b"    version: 3.13.2\n", b"    version: 3.13.2\n    zz_future: kept\n")
    sops = document.load_encrypted(edited, "yaml")
    assert sops.metadata.extra == {"zz_future": "kept"}
    assert b"    zz_future: kept\n" in document.dump(sops)


def test_load_plain_refuses_an_encrypted_file() -> None:
    out, _ = roundtrip("yaml", b"a: b\n")
    with pytest.raises(UserError, match="already encrypted"):
        document.load_plain(out, "yaml")
    assert document.is_sops_file(out, "yaml")
    assert not document.is_sops_file(b"a: b\n", "yaml")


# --- tampering ---------------------------------------------------------------------

SECRET = "hunter2-correct-horse"


def _encrypted() -> bytes:
    out, _ = roundtrip("yaml", f"password: {SECRET}\nother: x\n".encode())
    return out


def _flip_b64(text: str, field: str) -> str:
    """Flip one bit of the decoded ``field`` (data/iv/tag) of the first ENC on line 0."""
    line = text.splitlines()[0]
    enc = cipher.parse(line.split(": ", 1)[1])
    raw = bytearray(getattr(enc, field))
    raw[0] ^= 1
    changed = cipher.EncryptedValue(**{**enc.__dict__, field: bytes(raw)})
    return text.replace(line, "password: " + changed.text())


@pytest.mark.parametrize("field", ["data", "iv", "tag"])
def test_tampered_value_is_an_integrity_error(field: str) -> None:
    text = _flip_b64(_encrypted().decode(), field)
    with pytest.raises(IntegrityError) as info:
        document.decrypt(document.load_encrypted(text.encode(), "yaml"), KEY)
    assert SECRET not in info.value.one_line()
    assert info.value.exit_code == EXIT_INTEGRITY


def test_tampered_mac_and_lastmodified_are_integrity_errors() -> None:
    text = _encrypted().decode()
    mac_line = next(line for line in text.splitlines() if line.startswith("    mac: "))
    enc = cipher.parse(mac_line.split(": ", 1)[1])
    flipped = cipher.EncryptedValue(
        bytes([enc.data[0] ^ 1]) + enc.data[1:], enc.iv, enc.tag, enc.type
    )
    for bad in (
        text.replace(mac_line, "    mac: " + flipped.text()),
        text.replace("2026-01-02T03:04:05Z", "2026-01-02T03:04:06Z"),
        text.replace(mac_line + "\n", ""),
    ):
        with pytest.raises(IntegrityError, match="MAC mismatch") as info:
            document.decrypt(document.load_encrypted(bad.encode(), "yaml"), KEY)
        assert SECRET not in info.value.one_line()


def test_swapped_values_fail_because_of_the_aad() -> None:
    out, _ = roundtrip("yaml", b"a: one\nb: two\n")
    lines = out.decode().splitlines()
    a, b = lines[0].split(": ", 1)[1], lines[1].split(": ", 1)[1]
    swapped = out.decode().replace(lines[0], "a: " + b).replace(lines[1], "b: " + a)
    with pytest.raises(IntegrityError, match="value at a does not decrypt"):
        document.decrypt(document.load_encrypted(swapped.encode(), "yaml"), KEY)


def test_wrong_key_is_an_integrity_error() -> None:
    with pytest.raises(IntegrityError):
        document.decrypt(document.load_encrypted(_encrypted(), "yaml"), OTHER_KEY)


def test_value_changed_to_another_valid_ciphertext_fails_the_mac() -> None:
    out, _ = roundtrip("yaml", b"a: one\n")
    forged = cipher.ValueCipher(KEY).encrypt("evil", "a:")
    lines = out.decode().splitlines()
    bad = out.decode().replace(lines[0], "a: " + forged)
    with pytest.raises(IntegrityError, match="MAC mismatch"):
        document.decrypt(document.load_encrypted(bad.encode(), "yaml"), KEY)


def test_errors_are_secretkit_errors_with_one_line() -> None:
    with pytest.raises(SecretkitError) as info:
        document.load_encrypted(b"a: [", "yaml")
    assert "\n" not in info.value.one_line()


def test_inline_comment_governs_the_value_on_its_line_like_sops() -> None:
    source = b"password: x # sops:enc\nplain: z\n"
    out, back = roundtrip("yaml", source, meta(CryptRule("encrypted_comment_regex", "sops:enc")))
    lines = out.decode().splitlines()
    assert lines[0].startswith("password: ENC[") and lines[0].endswith(" # sops:enc")
    assert lines[1] == "plain: z"
    assert document.dump_plain(back) == source


def test_inline_comments_are_encrypted_inline() -> None:
    out, back = roundtrip("yaml", b"a: x # note\n")
    line = out.decode().splitlines()[0]
    assert (
        line.startswith("a: ENC[")
        and " #ENC[AES256_GCM," in line
        and line.endswith("type:comment]")
    )
    assert document.dump_plain(back) == b"a: x # note\n"


SAMPLES = {
    "yaml": b"a: b\n",
    "json": b'{\n\t"a": "b"\n}\n',
    "dotenv": b"a=b\n",
    "ini": b"[s]\na = b\n",
    "binary": b"a: b\n",
}


def test_every_store_in_the_registry_round_trips() -> None:
    from secretkit.sops.stores import STORES

    assert set(STORES) == set(document.FORMATS) == set(SAMPLES)
    for name, store in STORES.items():
        assert store.name == name
        out, back = roundtrip(name, SAMPLES[name])
        assert document.is_sops_file(out, name)
        assert document.dump_plain(back) == SAMPLES[name]
