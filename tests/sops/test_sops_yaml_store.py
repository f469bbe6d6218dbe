# ruff: noqa: E501  (style tables read best one case per column)
"""The YAML store: go-yaml's scalar styles, layouts (v3 indent n, v2), types, comment placement."""

from __future__ import annotations

import pytest

from secretkit.sops.stores import yaml_store
from secretkit.sops.tree import Comment, GoTime, Map, Seq


def emit(value: object, **kw: object) -> str:
    return yaml_store.dump([Map([("k", value)])], **kw).decode()  # type: ignore[arg-type, list-item]


STYLES = [
    ("plain", "k: plain\n"),
    ("", 'k: ""\n'),
    # strings that would resolve to another type are double-quoted (YAML 1.1 bools too)
    ("yes", 'k: "yes"\n'), ("Off", 'k: "Off"\n'), ("null", 'k: "null"\n'), ("~", 'k: "~"\n'),
    ("123", 'k: "123"\n'), ("0x1F", 'k: "0x1F"\n'), ("1_000", 'k: "1_000"\n'), ("1e3", 'k: "1e3"\n'),
    (".5", 'k: ".5"\n'), (".inf", 'k: ".inf"\n'), ("2024-01-01", 'k: "2024-01-01"\n'),
    ("2024-01-01T10:00:00Z", 'k: "2024-01-01T10:00:00Z"\n'), ("12:30", 'k: "12:30"\n'),
    ("1.2.3", "k: 1.2.3\n"),
    # indicators and surrounding spaces: single quotes
    (" lead", "k: ' lead'\n"), ("trail ", "k: 'trail '\n"), ("a: b", "k: 'a: b'\n"), ("a:b", "k: a:b\n"),
    ("#x", "k: '#x'\n"), ("a #b", "k: 'a #b'\n"), ("a#b", "k: a#b\n"), ("- x", "k: '- x'\n"), ("-x", "k: -x\n"),
    ("'q", "k: '''q'\n"), ("it's", "k: it's\n"), ("[x", "k: '[x'\n"), ("---", "k: '---'\n"),
    # characters go-yaml does not print raw: double quotes with escapes
    ("tab\there", 'k: "tab\\there"\n'), ("bell\x07", 'k: "bell\\a"\n'), ("smile\U0001f600", 'k: "smile\\U0001F600"\n'),
    ("é", "k: é\n"),
    # multi-line: literal blocks with the chomping indicator sops files show
    ("a\nb", "k: |-\n    a\n    b\n"), ("a\nb\n", "k: |\n    a\n    b\n"), ("a\n\n", "k: |+\n    a\n\n"),
    (" x\ny\n", "k: |4\n     x\n    y\n"), ("trail \nx", 'k: "trail \\nx"\n'),
    ("ENC[AES256_GCM,data:zA==,iv:uPUK,tag:Rg==,type:str]", "k: ENC[AES256_GCM,data:zA==,iv:uPUK,tag:Rg==,type:str]\n"),
    # other leaves
    (1, "k: 1\n"), (1.0, "k: 1\n"), (3.14, "k: 3.14\n"), (1234568000.0, "k: 1.234568e+09\n"), (1e-05, "k: 1e-05\n"),
    (float("inf"), "k: .inf\n"), (True, "k: true\n"), (None, "k: null\n"), (GoTime("2024-01-02T03:04:05Z"), "k: 2024-01-02T03:04:05Z\n"),
    (Map(), "k: {}\n"), (Seq(), "k: []\n"),
]  # fmt: skip


@pytest.mark.parametrize(("value", "expected"), STYLES)
def test_scalar_styles_match_go_yaml(value: object, expected: str) -> None:
    assert emit(value) == expected


@pytest.mark.parametrize(("value", "expected"), [(v, e) for v, e in STYLES if isinstance(v, str)])
def test_strings_read_back_unchanged(value: str, expected: str) -> None:
    docs, _ = yaml_store.load(expected.encode())
    assert docs[0].lookup("k") == value


def test_keys_are_quoted_like_values() -> None:
    out = yaml_store.dump([Map([("yes", 1), ("n", 2), ("a b", 3), ("x: y", 4), ("", 5)])]).decode()
    assert out == '"yes": 1\n"n": 2\na b: 3\n\'x: y\': 4\n"": 5\n'


NESTED = Map(
    [
        ("l", Seq(["a", Seq(["b", "c"]), Map([("x", "1"), ("y", Seq(["z"]))]), "m\nn\n"])),
        ("p", Map([("q", Map([("r", "s\nt\n")]))])),
    ]
)


def test_v3_layout_indent_4() -> None:
    assert yaml_store.dump([NESTED]).decode() == (
        "l:\n"
        "    - a\n"
        "    - - b\n"
        "      - c\n"
        '    - x: "1"\n'
        '      "y":\n'
        "        - z\n"
        "    - |\n"
        "      m\n"
        "      n\n"
        "p:\n"
        "    q:\n"
        "        r: |\n"
        "            s\n"
        "            t\n"
    )


def test_v3_layout_indent_2() -> None:
    assert yaml_store.dump([NESTED], indent=2).decode() == (
        "l:\n"
        "  - a\n"
        "  - - b\n"
        "    - c\n"
        '  - x: "1"\n'
        '    "y":\n'
        "      - z\n"
        "  - |\n"
        "    m\n"
        "    n\n"
        "p:\n"
        "  q:\n"
        "    r: |\n"
        "      s\n"
        "      t\n"
    )


def test_v2_layout_for_old_sops() -> None:
    doc = Map([("l", Seq(["a", Map([("x", "1"), ("y", "2\n")])])), ("d", "2020-01-01")])
    assert yaml_store.dump([doc], v2=True).decode() == (
        "l:\n- a\n-   x: '1'\n    'y': |\n        2\nd: '2020-01-01'\n"
    )


TYPES = b"""\
s: text
i: 42
h: 0x10
f: 1.5
e: 1e3
inf: -.Inf
b: True
old: yes
n: ~
t: 2024-01-01
tt: !!timestamp 2024-01-01T00:00:00Z
q: "42"
blk: |
    x
"""


def test_values_get_go_yaml_v3_types() -> None:
    docs, _ = yaml_store.load(TYPES)
    d = docs[0]
    assert [d.lookup(k) for k in ("s", "i", "h", "f", "e", "b", "old", "n", "t", "q", "blk")] == [
        "text", 42, 16, 1.5, 1000.0, True, "yes", None, "2024-01-01", "42", "x\n"
    ]  # fmt: skip
    assert d.lookup("inf") == float("-inf")
    assert d.lookup("tt") == GoTime("2024-01-01T00:00:00Z")


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


def test_comments_go_to_the_document_their_marker_starts() -> None:
    source = b"# head\na: 1\n# foot of first\n---\n# head of second\nb: 2\n"
    docs, _ = yaml_store.load(source)
    assert docs[0][-1] == Comment(" foot of first")
    assert docs[1][0] == Comment(" head of second")
    assert yaml_store.dump(docs) == source


def test_indentation_indicator_is_relative_to_the_parent() -> None:
    doc = Map([("k", "\nx"), ("l", Seq([" y\nz\n", Map([("a", "1"), ("m", "\nw")])]))])
    out = yaml_store.dump([doc])
    assert out == (
        b"k: |4-\n\n    x\nl:\n    - |2\n       y\n      z\n"
        b'    - a: "1"\n      m: |2-\n\n        w\n'
    )
    assert yaml_store.load(out)[0] == [doc]
