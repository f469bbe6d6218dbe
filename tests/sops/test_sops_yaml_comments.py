# ruff: noqa: E501  (expected outputs read best on one line)
"""sops/stores/yaml_comments.py through the YAML store: comment placement (go-yaml head/foot
rules, inline comments, documents)."""

from __future__ import annotations

from secretkit.sops.stores import yaml_store
from secretkit.sops.tree import Comment, Map, Seq

COMMENTED = b"""\
# top
a: 1
b:
    # before c
    c: 2
    d:
        - x
        # between items
        - w
    # end of b
# before e
e: 3
# trailing
"""


def test_comments_are_placed_like_go_yaml_does() -> None:
    docs, _ = yaml_store.load(COMMENTED)
    doc = docs[0]
    assert doc[0] == Comment(" top")
    b = doc.lookup("b")
    assert isinstance(b, Map)
    assert b[0] == Comment(" before c")  # head of c
    d = b.lookup("d")
    assert isinstance(d, Seq) and d[1] == Comment(" between items")
    # go-yaml: the first comment line right after content is a foot of the innermost
    # block, even when dedented (sops then keeps it there: AAD b:d:)
    assert d[-1] == Comment(" end of b")
    assert doc[3] == Comment(" before e") and doc[-1] == Comment(" trailing")
    out = yaml_store.dump(docs)
    assert out == COMMENTED.replace(b"    # end of b", b"        # end of b")
    assert yaml_store.load(out)[0] == docs


def test_sops_example_comment_goes_into_the_block_above() -> None:
    # getsops/sops example.yaml: sops encrypted this comment with AAD app2:db:
    source = b"app2:\n    db:\n        user: eve\n    # private key\n    key: k\n"
    docs, _ = yaml_store.load(source)
    db = docs[0].lookup("app2").lookup("db")  # type: ignore[union-attr]
    assert db == Map([("user", "eve"), Comment(" private key")])


def test_a_comment_after_a_deeper_block_is_kept_with_the_next_entry() -> None:
    doc = Map([("a", Map([("b", "1")])), Comment(" about c"), ("c", "2")])
    out = yaml_store.dump([doc])
    assert out == b'a:\n    b: "1"\n\n# about c\nc: "2"\n'  # blank line: go-yaml reads a head
    assert yaml_store.load(out)[0] == [doc]


def test_hash_inside_block_scalars_and_quotes_is_not_a_comment() -> None:
    source = b"a: |\n    # not a comment\nb: '# nor this'\nc: x # inline\n"
    docs, _ = yaml_store.load(source)
    assert docs[0].lookup("a") == "# not a comment\n"
    assert docs[0].lookup("b") == "# nor this"
    assert docs[0][-2] == Comment(" inline", inline=True)  # stored before its entry, as sops does
    assert yaml_store.dump(docs) == source


INLINE = b"""\
a: 1 #one
b:
    c: x #two
    l:
        - w #three
d: | #four
    text
"""


def test_inline_comments_are_kept_inline_or_written_above_for_old_sops() -> None:
    docs, _ = yaml_store.load(INLINE)
    assert docs[0][0] == Comment("one", inline=True)
    assert yaml_store.dump(docs) == INLINE
    assert yaml_store.dump(docs, inline_comments=False) == (
        b"#one\na: 1\nb:\n    #two\n    c: x\n    l:\n        #three\n        - w\n\n#four\nd: |\n    text\n"
    )


def test_comments_go_to_the_document_their_marker_starts() -> None:
    source = b"# head\na: 1\n# foot of first\n---\n# head of second\nb: 2\n"
    docs, _ = yaml_store.load(source)
    assert docs[0][-1] == Comment(" foot of first")
    assert docs[1][0] == Comment(" head of second")
    assert yaml_store.dump(docs) == source
