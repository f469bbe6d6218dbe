"""The YAML store: documents, aliases, indent detection (styles, comments and layouts are in
test_sops_yaml_scalars/_comments/_emitter)."""

from __future__ import annotations

from secretkit.sops.stores import yaml_store
from secretkit.sops.tree import Map


def test_multi_document_and_empty_documents() -> None:
    docs, _ = yaml_store.load(b"a: 1\n---\n---\nb: 2\n")
    assert [d.keys() for d in docs] == [["a"], [], ["b"]]
    assert yaml_store.dump(docs) == b"a: 1\n---\n{}\n---\nb: 2\n"


def test_aliases_are_copied() -> None:
    docs, _ = yaml_store.load(b"a: &x\n    k: v\nb: *x\n")
    assert docs[0].lookup("b") == Map([("k", "v")])


def test_indent_is_detected() -> None:
    assert yaml_store.load(b"a:\n  b: 1\n")[1].indent == 2
    assert yaml_store.load(b"a: 1\n")[1].indent == 4
