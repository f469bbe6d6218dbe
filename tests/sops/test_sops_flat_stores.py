"""dotenv and INI stores: sops' parsing rules and go-ini's output."""

from __future__ import annotations

from secretkit.sops.stores import dotenv_store, ini_store
from secretkit.sops.tree import Comment, Map


def test_dotenv_is_split_at_the_first_equals_sign_and_never_trimmed() -> None:
    docs, _ = dotenv_store.load(b"A= x=y \n\n#c\nB=\\n\n")
    assert list(docs[0]) == [("A", " x=y "), Comment("c"), ("B", "\n")]
    assert dotenv_store.dump(docs[0]) == b"A= x=y \n#c\nB=\\n\n"


def test_dotenv_non_string_values_use_go_text() -> None:
    assert (
        dotenv_store.dump(Map([("a", True), ("b", 1.5), ("c", 7), ("d", None)]))
        == b"a=true\nb=1.5\nc=7\nd=\n"
    )


INI = b"""\
; about the first section
[first]
key = value
; about other
other : spaced value
quoted = "  padded  "
back = `has ; semicolon`
multi = \"\"\"line one
line two\"\"\"
inline = value ; trailing comment dropped by go-ini

# hash comment
[second]
k=v
"""


def test_ini_reads_go_ini_syntax() -> None:
    docs, _ = ini_store.load(INI)
    first = docs[0].lookup("first")
    assert isinstance(first, Map)
    assert list(first) == [
        Comment("about the first section"),
        ("key", "value"),
        ("other", "spaced value"),
        Comment("about other"),  # sops keeps a key's comment right after the key
        ("quoted", "  padded  "),
        ("back", "has ; semicolon"),
        ("multi", "line one\nline two"),
        ("inline", "value"),
    ]
    assert docs[0].lookup("second") == Map([Comment("hash comment"), ("k", "v")])


def test_ini_writes_go_ini_pretty_format() -> None:
    docs, _ = ini_store.load(INI)
    assert ini_store.dump(docs[0]) == (
        b"; about the first section\n"
        b"[first]\n"
        b"key    = value\n"
        b"; about other\n"
        b"other  = spaced value\n"
        b'quoted = "  padded  "\n'
        b"back   = `has ; semicolon`\n"
        b'multi  = """line one\nline two"""\n'
        b"inline = value\n"
        b"\n"
        b"; hash comment\n"
        b"[second]\n"
        b"k = v\n"
    )
    again, _ = ini_store.load(ini_store.dump(docs[0]))
    assert again == docs


def test_ini_keys_before_any_section_form_the_default_section() -> None:
    docs, _ = ini_store.load(b"top = 1\n[s]\na = b\n")
    assert docs[0].keys() == ["DEFAULT", "s"]
    assert ini_store.dump(docs[0]) == b"top = 1\n\n[s]\na = b\n"


def test_ini_quotes_keys_with_delimiters() -> None:
    out = ini_store.dump(Map([("s", Map([("a=b", "1"), ("c", "x")]))]))
    assert out == b"[s]\n`a=b` = 1\nc     = x\n"
    docs, _ = ini_store.load(out)
    assert docs[0].lookup("s") == Map([("a=b", "1"), ("c", "x")])
