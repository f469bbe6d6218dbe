"""Metadata block layouts per writing version, and flattening for dotenv/INI."""

from __future__ import annotations

from secretkit.sops.metadata import CryptRule, KeyEntry, Metadata
from secretkit.sops.stores import metablock
from secretkit.sops.tree import Map, Seq

AGE = KeyEntry("age", {"recipient": "age1r", "enc": "E"})
PGP = KeyEntry("pgp", {"fp": "F", "created_at": "C", "enc": "E"})


def _meta(version: str, **kw: object) -> Metadata:
    base = {"key_groups": [[AGE, PGP]], "lastmodified": "L", "mac": "M", "version": version}
    base.update(kw)
    return Metadata(**base)  # type: ignore[arg-type]


def test_313_layout_is_alphabetical_with_age_enc_first() -> None:
    tree = metablock.to_tree(_meta("3.13.2", crypt_rule=CryptRule("encrypted_regex", "^data$")))
    assert tree.keys() == ["age", "encrypted_regex", "lastmodified", "mac", "pgp", "version"]
    assert tree.lookup("age") == Seq([Map([("enc", "E"), ("recipient", "age1r")])])
    assert tree.lookup("pgp") == Seq([Map([("created_at", "C"), ("enc", "E"), ("fp", "F")])])


def test_312_layout_is_struct_order() -> None:
    tree = metablock.to_tree(_meta("3.12.1", crypt_rule=CryptRule("encrypted_regex", "^data$")))
    assert tree.keys() == ["age", "lastmodified", "mac", "pgp", "encrypted_regex", "version"]
    assert tree.lookup("age") == Seq([Map([("recipient", "age1r"), ("enc", "E")])])


def test_old_layout_keeps_the_empty_lists_it_was_read_with() -> None:
    source = Map(
        [
            ("kms", Seq()), ("gcp_kms", Seq()), ("azure_kv", Seq()), ("hc_vault", Seq()),
            ("age", Seq([Map([("recipient", "age1r"), ("enc", "E")])])),
            ("lastmodified", "L"), ("mac", "M"), ("pgp", Seq()),
            ("unencrypted_suffix", "_unencrypted"),
            ("version", "3.7.1"),
        ]
    )  # fmt: skip
    meta = metablock.from_tree(source)
    assert meta.crypt_rule == CryptRule()
    assert metablock.to_tree(meta) == source
    json_tree = metablock.to_tree(meta, null_empty_lists=True)
    assert json_tree.lookup("kms") is None


def test_unknown_keys_and_missing_rule() -> None:
    meta = metablock.from_tree(
        Map([("lastmodified", "L"), ("mac", "M"), ("version", "3.11.0"), ("x_new", "v")])
    )
    assert meta.crypt_rule is None
    assert meta.extra == {"x_new": "v"}
    assert metablock.to_tree(meta).keys() == ["lastmodified", "mac", "version", "x_new"]


def test_key_groups_313_and_312() -> None:
    meta = _meta("3.13.2", key_groups=[[AGE], [PGP]], shamir_threshold=2)
    tree = metablock.to_tree(meta)
    assert tree.keys() == [
        "key_groups",
        "lastmodified",
        "mac",
        "shamir_threshold",
        "unencrypted_suffix",
        "version",
    ]
    groups = tree.lookup("key_groups")
    assert isinstance(groups, Seq)
    assert [g.keys() for g in groups] == [["age", "hc_vault"], ["age", "hc_vault", "pgp"]]  # type: ignore[union-attr]
    old = metablock.to_tree(_meta("3.12.0", key_groups=[[AGE], [PGP]], shamir_threshold=2))
    assert old.keys() == [
        "shamir_threshold",
        "key_groups",
        "lastmodified",
        "mac",
        "unencrypted_suffix",
        "version",
    ]
    old_groups = old.lookup("key_groups")
    assert [g.keys() for g in old_groups] == [["hc_vault", "age"], ["pgp", "hc_vault", "age"]]  # type: ignore[union-attr]
    back = metablock.from_tree(tree)
    assert back.shamir_threshold == 2 and [len(g) for g in back.key_groups] == [1, 1]


def test_flatten_and_unflatten() -> None:
    tree = metablock.to_tree(
        _meta("3.13.2", key_groups=[[AGE], [PGP]], shamir_threshold=2, mac_only_encrypted=True)
    )
    flat = metablock.flatten(tree)
    assert ("key_groups__list_1__map_pgp__list_0__map_fp", "F") in flat
    assert ("mac_only_encrypted", "true") in flat
    assert ("shamir_threshold", "2") in flat
    meta = metablock.from_tree(metablock.unflatten(flat))
    assert meta.mac_only_encrypted and meta.shamir_threshold == 2
    assert [[e.ident for e in g] for g in meta.key_groups] == [["age1r"], ["F"]]


def test_unflatten_orders_lists_by_index() -> None:
    pairs = [(f"age__list_{i}__map_recipient", f"r{i}") for i in (10, 2, 0, 1)]
    tree = metablock.unflatten(pairs)
    assert [m.lookup("recipient") for m in tree.lookup("age")] == ["r0", "r1", "r2", "r10"]  # type: ignore[union-attr]


def test_a_single_group_is_written_as_plain_lists_like_sops() -> None:
    meta = _meta("3.13.2", key_groups=[[AGE]], explicit_key_groups=True, shamir_threshold=1)
    tree = metablock.to_tree(meta)
    assert tree.keys() == [
        "age",
        "lastmodified",
        "mac",
        "shamir_threshold",
        "unencrypted_suffix",
        "version",
    ]


def test_foreign_entries_keep_nested_fields() -> None:
    kms = Map(
        [
            ("arn", "arn:aws:kms:x"),
            ("context", Map([("app", "web")])),
            ("created_at", "C"),
            ("enc", "E"),
            ("aws_profile", ""),
        ]
    )
    source = Map([("kms", Seq([kms])), ("lastmodified", "L"), ("mac", "M"), ("version", "3.12.0")])
    meta = metablock.from_tree(source)
    assert meta.key_groups[0][0].ident == "arn:aws:kms:x"
    assert metablock.to_tree(meta) == source
