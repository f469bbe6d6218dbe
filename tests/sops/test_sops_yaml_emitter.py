"""sops/stores/yaml_emitter.py through the YAML store: layouts (v3 indent n, v2 for old sops,
indentation indicators)."""

from __future__ import annotations

from secretkit.sops.stores import yaml_store
from secretkit.sops.tree import Map, Seq

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


def test_indentation_indicator_is_relative_to_the_parent() -> None:
    doc = Map([("k", "\nx"), ("l", Seq([" y\nz\n", Map([("a", "1"), ("m", "\nw")])]))])
    out = yaml_store.dump([doc])
    assert out == (
        b"k: |4-\n\n    x\nl:\n    - |2\n       y\n      z\n"
        b'    - a: "1"\n      m: |2-\n\n        w\n'
    )
    assert yaml_store.load(out)[0] == [doc]
