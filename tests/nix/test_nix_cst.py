"""The tree-sitter CST layer: string values, attribute paths, bindings, positions."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import time

import pytest

from secretkit.nix import cst, syntax
from tests.conftest import need


def _one(source: str) -> cst.NixString:
    found = cst.strings(cst.parse(source.encode()))
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("source", "value", "kind", "interpolated"),
    [
        ('{ a = "plain"; }', "plain", "plain", False),
        ('{ a = "x\\ny\\t\\"q\\"\\\\"; }', 'x\ny\t"q"\\', "plain", False),
        ('{ a = "dollar \\${not} here"; }', "dollar ${not} here", "plain", False),
        ('{ a = "pre ${b} post"; }', "pre ${b} post", "plain", True),
        ("{ a = ''\n    one\n      two\n  ''; }", "one\n  two\n", "indented", False),
        ("{ a = ''  x\n  y''; }", "x\ny", "indented", False),
        ("{ a = ''\n  q ''' ''$ ''\\n\n''; }", "q '' $ \n\n", "indented", False),
        ("{ a = ''\n  ${b}/bin/x\n''; }", "${b}/bin/x\n", "indented", True),
        ('{ a = ""; }', "", "plain", False),
    ],
)
def test_string_values(source: str, value: str, kind: str, interpolated: bool) -> None:
    lit = _one(source)
    assert lit.value == value
    assert lit.kind == kind
    assert lit.has_interpolation is interpolated


def test_values_agree_with_nix_instantiate() -> None:
    """The real Nix parser is the oracle for escapes and indentation stripping."""
    nix = shutil.which("nix-instantiate")
    need(nix is not None, "nix-instantiate is not installed")
    assert nix is not None
    cases = [
        '"a\\tb\\\\c\\$d"',
        "''\n    keep\n      indent\n  ''",
        "''  first\n    second''",
        "''\n  a ''' b ''$c ''\\t\n''",
        "''\n\n    after blank\n\n    end\n  ''",
        # Escapes count as text when Nix strips the indentation.
        "''\n  a ''\\n  b\n   c\n''",
        "''\n  ''\\ x\n  y\n''",
        "''\n    a\n  ''$b\n''",
        "''\n  '''x\n    y\n''",
        "''\n  a\n\t b\n  ''",
    ]
    for expr in cases:
        proc = subprocess.run(
            [nix, "--eval", "--json", "--expr", expr, "--option", "experimental-features", ""],
            capture_output=True,
            check=True,
            env={"NIX_STATE_DIR": "/tmp/secretkit-nix-state", "HOME": "/tmp"},
        )
        import json

        expected = json.loads(proc.stdout)
        assert _one(f"{{ a = {expr}; }}").value == expected, expr


def test_attrpath_through_lists_and_bindings() -> None:
    source = b"""{ config, ... }:
{
  services.prometheus.scrapeConfigs = [
    { job_name = "node"; }
    {
      authorization = {
        type = "Bearer";
        credentials = "c";
      };
    }
  ];
  networking.wireless.networks."Home Wifi".psk = "p";
}
"""
    tree = cst.parse(source)
    paths = {s.value: s.attrpath for s in cst.strings(tree)}
    assert paths["c"] == [
        "services",
        "prometheus",
        "scrapeConfigs",
        "[1]",
        "authorization",
        "credentials",
    ]
    assert paths["node"] == ["services", "prometheus", "scrapeConfigs", "[0]", "job_name"]
    assert paths["p"] == ["networking", "wireless", "networks", "Home Wifi", "psk"]


def test_binding_span_and_positions() -> None:
    source = b'{\n  a.b = "value";\n  c = 1;\n}\n'
    tree = cst.parse(source)
    lit = cst.strings(tree)[0]
    assert source[lit.binding_start : lit.binding_end] == b'a.b = "value";'
    assert source[lit.start : lit.end] == b'"value"'
    assert (lit.line, lit.column) == (2, 10)
    assert lit.span_of(0, len(lit.value)) == (lit.start + 1, lit.end - 1)


def test_span_of_maps_escapes_back_to_source() -> None:
    source = b'{ a = "x\\$y-secret"; }'
    lit = _one(source.decode())
    start, end = lit.span_of(lit.value.index("y"), len(lit.value))
    assert source[start:end] == b"y-secret"


def test_bindings_full_paths_and_let() -> None:
    source = b"""let k = "v"; in {
  sops.defaultSopsFile = ./secrets.yaml;
  sops.secrets = { "a/b" = { sopsFile = ./x.yaml; }; };
  f = x: { inner = 1; };
}
"""
    found = [(b.attrset_path, b.attrpath) for b in cst.bindings(cst.parse(source))]
    assert ([], ["k"]) in found
    assert ([], ["sops", "defaultSopsFile"]) in found
    assert (["sops", "secrets", "a/b"], ["sopsFile"]) in found
    assert (["f"], ["inner"]) in found


def test_attribute_names_are_not_values() -> None:
    tree = cst.parse(b'{ "quoted name" = "v"; }')
    assert [s.value for s in cst.strings(tree)] == ["v"]


def test_comments_are_not_strings() -> None:
    comment = '# password = "old";'  # secretkit: allow
    tree = cst.parse(b"{\n  " + comment.encode() + b'\n  a = "new";\n}\n')
    assert [s.value for s in cst.strings(tree)] == ["new"]
    assert [text for _s, _e, text in cst.comments(tree)] == [comment]


@pytest.mark.parametrize(
    "source", [b'{ a = "x" }', b"{ a = ", b"let in", b'{ a = "unterminated; }']
)
def test_parse_errors_are_reported_not_raised(source: bytes) -> None:
    tree = cst.parse(source)
    assert tree.has_errors
    assert tree.error_spans
    assert "x" not in repr(tree) or "bytes=" in repr(tree)


def test_repr_shows_no_value() -> None:
    lit = _one('{ password = "hunter2"; }')  # secretkit: allow
    assert "hunter2" not in repr(lit)
    assert "hunter2" not in repr(cst.parse(b'{ password = "hunter2"; }'))  # secretkit: allow


def _nested_attrsets(depth: int) -> bytes:
    return (
        "{ a = " + "".join(f"{{ b{i} = " for i in range(depth)) + '"x";' + " };" * depth + " }"
    ).encode()


def _nested_lets(depth: int) -> bytes:
    body = "".join(f"  x{i} = let\n" for i in range(depth)) + ' "x"' + " in 1;\n" * depth
    return ("let\n" + body + "in {}").encode()


@pytest.mark.slow
def test_deep_nesting_is_linear_and_bounded() -> None:
    # 1,000-deep attrsets took 47 s in `check` (a walk up the tree for every binding).
    import time

    started = time.monotonic()
    tree = cst.parse(_nested_attrsets(1000))
    deepest = list(cst.bindings(tree))[-1]
    assert deepest.full_path == ["a", *(f"b{i}" for i in range(1000))]
    (string,) = cst.strings(tree)
    assert string.attrpath == deepest.full_path
    assert time.monotonic() - started < 20  # well under a second on an idle machine
    for source in (_nested_attrsets(cst.MAX_PATH_DEPTH + 5), _nested_lets(10_000)):
        too_deep = cst.parse(source)
        with pytest.raises(cst.NixTooDeep) as info:
            list(cst.bindings(too_deep))
        assert info.value.one_line() == (
            "a Nix file nests attribute sets, lets or lists more than 2000 levels deep; it was "
            "not read (hint: flatten the nesting (no NixOS configuration needs this depth))"
        )
        with pytest.raises(cst.NixTooDeep):
            cst.strings(too_deep)


_SHAPES = r"""
{ config, lib, ... }:
let port = "80"; in {
  services.a = { "quoted name" = "v1"; x.${"computed"}.y = "v2"; };
  list = [ "e0" # a comment
    { inner = "e1"; } [ "n0" ''
      n1 ${"nested"} '' ] ];
  b = lib.mkIf true "v3";
  c = "${port}-${"x"}";
  d = builtins.attrNames { "k" = 1; }."k" or "fallback";
  e = x ? "q";
  broken = [ "unterminated
"""


@pytest.mark.parametrize("source", [_SHAPES, _SHAPES.replace("broken", "# "), "{}", ""])
def test_string_nodes_by_query_match_the_walk(source: str) -> None:
    tree = cst.parse(source.encode())

    def shape(items: object) -> list[tuple[int, int, tuple[str, ...], int | None]]:
        return [
            (n.start_byte, n.end_byte, tuple(p), b.start_byte if b is not None else None)
            for n, p, b in items  # type: ignore[attr-defined]
        ]

    walked = shape(cst.string_nodes_walk(tree))
    assert shape(cst.string_nodes(tree)) == walked
    assert bool(walked) == ('"' in source)  # the shapes hold strings


@pytest.mark.parametrize(
    "source",
    [
        b"{ a, b, }: a",
        b"{\n  lib,\n  pkgs, # the package set\n}:\n{ x = 1; }\n",
        b"{ a, b, }@args: a",
    ],
)
def test_a_trailing_comma_in_formals_parses_with_the_original_bytes(source: bytes) -> None:
    tree = cst.parse(source)  # nixfmt's RFC style; valid Nix, rejected by tree-sitter-nix
    assert not tree.has_errors
    assert tree.source == source
    assert cst.node_text(tree, tree.root) == source.decode()


def test_a_trailing_comma_elsewhere_is_still_an_error() -> None:
    assert cst.parse(b"[ 1, ]").has_errors


def test_commented_out_lines_after_commas_parse_in_linear_time() -> None:
    # A broken file with a block of commented-out lines holding commas and "#"s: the
    # trailing-comma retry once read such a block in exponentially many ways (17 s
    # for 10 lines, a hang for more).
    block = "".join(f"  #    #bind = $mod, K{i}, exec, x,\n" for i in range(400))
    source = ("{ a, b\n" + block + "  c = [ 1 2 ;\n}\n").encode()
    started = time.perf_counter()
    tree = cst.parse(source)
    assert tree.has_errors
    assert time.perf_counter() - started < 2.0


_OLD_TRAILING_COMMA = re.compile(rb",((?:\s|#[^\n]*)*\}\s*(?:@\s*[A-Za-z_][\w'-]*\s*)?:)")


def test_the_trailing_comma_pattern_rewrites_what_the_plain_one_did() -> None:
    # the plain (backtracking) pattern is the reference, on texts short enough for it
    rng = random.Random(15)
    alphabet = [b",", b"#", b"}", b":", b"\n", b" ", b"\t", b"@", b"a", b"\r", b"\f", b"x'"]
    changed = 0
    for _ in range(20000):
        text = b"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16)))
        old = _OLD_TRAILING_COMMA.sub(lambda m: b" " + m.group(1), text)
        new = syntax._TRAILING_FORMAL_COMMA.sub(lambda m: b" " + m.group(1), text)
        assert new == old, text
        changed += new != text
    assert changed > 100


# -- navigation (moved from test_nix_emit: navigation lives in cst) ----------------


def test_module_body_through_function_let_and_comments() -> None:
    tree = cst.parse(b"# c\n{ pkgs, ... }:\nlet x = 1; in\n{ a = x; }\n")
    body = cst.module_body(tree)
    assert body is not None and cst.node_text(tree, body) == "{ a = x; }"
    assert cst.module_body(cst.parse(b"x: x")) is None


def test_path_below_lists_and_bindings() -> None:
    src = b'{ a.b = [ { c = "x"; } ]; }'
    tree = cst.parse(src)
    top = cst.module_body(tree)
    node = tree.root.descendant_for_byte_range(src.index(b'"x"'), src.index(b'"x"') + 3)
    while node.type != "string_expression":
        node = node.parent
    assert cst.path_below(tree, node, top) == ["a", "b", "[0]", "c"]


def _attrpath(tree: cst.NixTree) -> cst.Node:
    return next(n for n in cst.walk(tree.root) if n.type == "attrpath")


def test_one_attrpath_reader_three_views() -> None:
    tree = cst.parse(b'{ a."b\\"c".${x}."d-${y}" = 1; }')
    path = _attrpath(tree)
    # lenient: computed parts as their source text
    assert cst.attr_names(tree, path) == ["a", 'b"c', "${x}", "d-${y}"]
    # static: None as soon as a part is computed
    assert cst.static_attr_names(tree, path) is None
    values = {"x": "ex", "y": "why"}

    def resolve(node: cst.Node) -> str | None:
        return values.get(cst.node_text(tree, node))

    assert cst.static_attr_names(tree, path, resolve) == ["a", 'b"c', "ex", "d-why"]
    values.pop("y")
    assert cst.static_attr_names(tree, path, resolve) is None
    parts = path.named_children
    assert [cst.attr_name(tree, p) for p in parts] == ["a", 'b"c', None, None]


def test_dotted_name_and_string_values() -> None:
    tree = cst.parse(b'[ a.b.c a.${x} (a.b or c) "p\\nq" "r${s}" ]')
    items = cst.unwrap(cst.expression_root(tree)).named_children
    assert [cst.dotted_name(tree, cst.unwrap(n)) for n in items[:3]] == ["a.b.c", None, None]
    assert cst.string_value(tree, items[3]) == "p\nq"
    assert cst.string_value(tree, items[4]) is None
    assert cst.string_text(tree, items[4]) == "r${s}"
    assert cst.unquote('"a\\"b\\${c}"') == 'a"b${c}'


def test_host_names_one_reader() -> None:
    src = b'{ networking.hostName = "one"; config.networking = { hostName = x; }; }'
    tree = cst.parse(src)
    found = [(src[b.start : b.end].decode(), value) for b, value in cst.host_names(tree)]
    assert found == [('networking.hostName = "one";', "one"), ("hostName = x;", None)]


def test_walk_yields_every_node_in_source_order() -> None:
    tree = cst.parse(b"{ a = [ 1 2 ]; }")
    kinds = [n.type for n in cst.walk(tree.root) if n.is_named]
    assert kinds[:3] == ["source_code", "attrset_expression", "binding_set"]
    assert [
        cst.node_text(tree, n) for n in cst.walk(tree.root) if n.type == "integer_expression"
    ] == ["1", "2"]


def test_a_host_name_set_inside_config_mkmerge_is_the_hosts() -> None:
    """``config = lib.mkMerge [ { networking.hostName = "box"; … } ]`` names the host
    (helper-117: it was shown as nixos)."""
    tree = cst.parse(
        b'{ lib, ... }: { config = lib.mkMerge [ { networking.hostName = "box"; } '
        b'(lib.mkIf true { networking.hostName = "other"; }) ]; '
        b'imports = [ { networking.hostName = "inline"; } ]; }'
    )
    assert [name for _b, name in cst.host_names(tree)] == ["box", "other", "inline"]
