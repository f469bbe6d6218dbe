# ruff: noqa: E501  (style tables read best one case per column)
"""sops/stores/yaml_scalars.py through the YAML store: go-yaml's scalar styles and v3 types."""

from __future__ import annotations

import pytest

from secretkit.sops.stores import yaml_store
from secretkit.sops.tree import GoTime, Map, Seq


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
