"""emit.py: sops-nix snippets, quoting, and the edits that insert options."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from secretkit.nix import cst, emit
from secretkit.nix.edits import apply_edits
from secretkit.nix.inline import node_at_span, uses_variable
from tests.conftest import need_tool
from tests.support.nixeval import eval_json


def _eval(expr: str) -> str:
    nix = need_tool("nix-instantiate")
    proc = subprocess.run(
        [nix, "--eval", "--strict", "--json", "-E", expr], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("text", ["plain", 'q"uote', "back\\slash", "${x}", "$__file{a}", "l1\nl2"])
def test_nix_string_round_trips_through_nix(text: str) -> None:
    import json

    assert json.loads(_eval(emit.nix_string(text))) == text


@pytest.mark.parametrize(
    "text",
    [
        "password = @P@",  # no line break at its end: none is added
        "password = @P@\n",
        "[db]\npassword = @P@",
        "user = 'me'\npassword = '@P@'",  # ends in ' : '' after it would be an escape
        "a ''b'' ${c} = @P@",
    ],
)
def test_a_template_holds_exactly_the_text_it_stands_for(text: str) -> None:
    import json

    before, _, after = text.partition("@P@")
    line = (
        emit.indented_string_line(before) + emit.placeholder("n") + emit.indented_string_line(after)
    )
    decl = emit.TemplateDecl("t", line.rstrip("\n").split("\n"), final_newline=text.endswith("\n"))
    body = "\n".join(decl.lines())
    expr = f'let config.sops.placeholder."n" = "V"; in {{ {body} }}'
    got = json.loads(_eval(f'({expr}).sops.templates."t".content'))
    assert got == text.replace("@P@", "V")


def test_attr_quotes_what_is_not_an_identifier() -> None:
    assert emit.attr("token") == "token"
    assert emit.attr("sops-nix") == "sops-nix"
    assert emit.attr("Home Wifi") == '"Home Wifi"'
    assert emit.attr("in") == '"in"'
    assert emit.attrpath(["a", "b c"]) == 'a."b c"'


def test_secret_declaration_text() -> None:
    decl = emit.SecretDecl(
        "prometheus/syncthing/credentials",
        "../../secrets/observer.yaml",
        owner='"prometheus"',
        restart_units=("prometheus.service",),
    )
    assert decl.lines() == [
        'sops.secrets."prometheus/syncthing/credentials" = {',
        "  sopsFile = ../../secrets/observer.yaml;",
        '  owner = "prometheus";',
        '  restartUnits = [ "prometheus.service" ];',
        "};",
    ]


def test_units_the_host_s_configuration_names_are_written_as_nix(tmp_path: Path) -> None:
    """A unit written in Nix goes in as it is, a list of them is joined to the rest;
    evaluated by the real nix-instantiate."""
    need_tool("nix-instantiate")
    decl = emit.TemplateDecl(
        "t",
        ["X=1"],
        restart_units=(
            "a.service",
            emit.NixExpr('"${backend}-b.service"'),
            emit.NixList('map (i: "c-${i}.service") ifaces'),
        ),
    )
    (line,) = [line for line in decl.lines() if "restartUnits" in line]
    value = line.split("=", 1)[1].strip().rstrip(";")
    expr = f'let backend = "podman"; ifaces = [ "x" "y" ]; in {value}'
    assert eval_json(expr, tmp_path / "state") == [
        "a.service",
        "podman-b.service",
        "c-x.service",
        "c-y.service",
    ]


def test_references() -> None:
    assert emit.secret_ref("a/b") == 'config.sops.secrets."a/b".path'
    assert emit.template_ref("x.env") == 'config.sops.templates."x.env".path'
    assert emit.placeholder("a/b") == '${config.sops.placeholder."a/b"}'


def test_ensure_option_uses_the_deepest_existing_attrset() -> None:
    src = b"{\n  services.prometheus = {\n    enable = true;\n  };\n}\n"
    tree = cst.parse(src)
    top = cst.module_body(tree)
    state = emit.ensure_option(tree, top, ["services", "prometheus", "checkConfig"], '"x"')
    assert state.existing is None and state.edit is not None
    out = apply_edits(src, [state.edit])
    assert (
        out
        == b'{\n  services.prometheus = {\n    enable = true;\n    checkConfig = "x";\n  };\n}\n'
    )
    again = emit.ensure_option(
        cst.parse(out),
        cst.module_body(cst.parse(out)),
        ["services", "prometheus", "checkConfig"],
        '"y"',
    )
    assert again.edit is None and again.existing == '"x"'


def test_insert_into_an_empty_attrset() -> None:
    src = b"{ }\n"
    tree = cst.parse(src)
    edit = emit.insert_bindings(tree, cst.module_body(tree), ["a = 1;"])
    assert apply_edits(src, [edit]) == b"{\n  a = 1;\n}\n"


@pytest.mark.parametrize(
    ("src", "want"),
    [
        # a comment after the last binding stays on its line, with that binding
        (
            b'{\n  x.y =\n    "true"; # keep me here\n\n}\n',
            b'{\n  x.y =\n    "true"; # keep me here\n  a = 1;\n\n}\n',
        ),
        (b"{\r\n  b = 2; # c\r\n}\r\n", b"{\r\n  b = 2; # c\n  a = 1;\r\n}\r\n"),
        # without one the bindings follow the last `;` as before
        (
            b"{\n  b = 2;\n  # a note for what follows\n}\n",
            b"{\n  b = 2;\n  a = 1;\n  # a note for what follows\n}\n",
        ),
    ],
)
def test_inserted_bindings_keep_a_trailing_comment_on_its_line(src: bytes, want: bytes) -> None:
    tree = cst.parse(src)
    edit = emit.insert_bindings(tree, cst.module_body(tree), ["a = 1;"])
    assert apply_edits(src, [edit]) == want


@pytest.mark.parametrize(
    ("src", "want"),
    [
        (b"{ pkgs, ... }: { }", b"{ config, pkgs, ... }: { }"),
        (b"{ ... }: { }", b"{ config, ... }: { }"),
        (b"{ config, ... }: { }", None),
        (b"{ a = 1; }", b"{ config, ... }:\n{ a = 1; }"),
        (b"args@{ lib, ... }: { }", b"args@{ config, lib, ... }: { }"),
        # a file of flake inputs returning the module (`import ./box.nix inputs`): the
        # inner function is the module; `config` given to the outer one broke the host
        (b"{ self, ... }: { config, pkgs, ... }: { }", None),
        (b"{ self, ... }: { pkgs, ... }: { }", b"{ self, ... }: { config, pkgs, ... }: { }"),
        (
            b"inputs: { lib, ... }: let a = 1; in { }",
            b"inputs: { config, lib, ... }: let a = 1; in { }",
        ),
        (b"{ lib, ... }: let f = x: x; in { }", b"{ config, lib, ... }: let f = x: x; in { }"),
    ],
)
def test_ensure_config_arg(src: bytes, want: bytes | None) -> None:
    edit = emit.ensure_config_arg(cst.parse(src))
    if want is None:
        assert edit is None
    else:
        assert not isinstance(edit, str) and edit is not None
        assert apply_edits(src, [edit]) == want


def test_ensure_config_arg_refuses_a_bare_argument() -> None:
    assert isinstance(emit.ensure_config_arg(cst.parse(b"args: { }")), str)


def test_a_function_of_the_flakes_inputs_is_not_given_config() -> None:
    """`{ self, ... }: { … }` imported as (import ./box.nix inputs): config added to it
    is asked of the flake's inputs, and the host no longer evaluates (a re-check)."""
    for src in (b"{ self, ... }: { }", b"{ inputs, nixpkgs, ... }: { a = 1; }"):
        assert emit.ensure_config_arg(cst.parse(src)) == emit.INPUTS_FUNCTION
    # a module given self through specialArgs names a module argument as well
    edit = emit.ensure_config_arg(cst.parse(b"{ self, pkgs, ... }: { }"))
    assert not isinstance(edit, str) and edit is not None


def _inline(src: bytes, marker: bytes = b"{ services") -> tuple[cst.Tree, cst.Node]:
    tree = cst.parse(src)
    at = src.index(marker)
    node = node_at_span(tree, at, src.index(b"}", at) + 1)
    assert node is not None and node.type in cst.ATTRSETS
    return tree, node


@pytest.mark.parametrize(
    ("src", "want"),
    [
        (  # a bare attrset in a list: wrapped (a function needs the parentheses there)
            b"{ m = [ ./a { services.x = 1; } ./b ]; }",
            b"{ m = [ ./a ({ config, ... }: { services.x = 1; }) ./b ]; }",
        ),
        (  # a colmena node's function: config joins its formals
            b"{ web = { name, ... }: { services.x = 1; }; }",
            b"{ web = { config, name, ... }: { services.x = 1; }; }",
        ),
        (  # through parentheses and let
            b"[ ({ pkgs, ... }: let y = 1; in { services.x = y; }) ]",
            b"[ ({ config, pkgs, ... }: let y = 1; in { services.x = y; }) ]",
        ),
        (b"[ ({ config, ... }: { services.x = config.y; }) ]", None),  # (its own config)
    ],
)
def test_ensure_inline_config_arg(src: bytes, want: bytes | None) -> None:
    tree, node = _inline(src)
    edits = emit.ensure_inline_config_arg(tree, node)
    assert not isinstance(edits, str)
    if want is None:
        assert edits == []
    else:
        out = apply_edits(src, edits)
        assert out == want
        assert not cst.parse(out).has_errors


@pytest.mark.parametrize(
    "src",
    [
        b"let config = { }; in [ { services.x = config.y; } ]",
        b"{ config, ... }: { m = [ { services.inherit = 1; inherit config; } ]; }",
        b"{ config, ... }: { m = [ ({ pkgs, ... }: { services.x = config.y; }) ]; }",
        b"{ config, ... }: { m = [ { services.x = with config; y; } ]; }",
    ],
)
def test_ensure_inline_config_arg_keeps_an_outer_config(src: bytes) -> None:
    """A ``config`` the inline module reads from around it would be hidden by the
    function's own: refused, with the reason."""
    tree, node = _inline(src)
    assert emit.ensure_inline_config_arg(tree, node) == emit.OUTER_CONFIG


def test_wrapping_stays_inside_an_edge_insertion() -> None:
    """The wiring may insert at the attrset's edges (``{ imports = [ ( … ) m ]; }``): the
    function stays the innermost, whatever the order the edits come in."""
    from secretkit.nix.edits import Edit

    src = b"{ web = { services.x = 1; }; }"
    tree, node = _inline(src)
    edits = emit.ensure_inline_config_arg(tree, node)
    assert not isinstance(edits, str)
    wiring = [
        Edit(node.start_byte, node.start_byte, "{ imports = [ ("),
        Edit(node.end_byte, node.end_byte, ") m ]; }"),
    ]
    for order in (edits + wiring, wiring + edits):
        assert apply_edits(src, order) == (
            b"{ web = { imports = [ (({ config, ... }: { services.x = 1; })) m ]; }; }"
        )


def test_uses_variable_reads_variables_not_attribute_names() -> None:
    src = b"{ config = 1; a.config = 2; b = x.config; inherit (y) config; }"
    tree = cst.parse(src)
    assert not uses_variable(tree, tree.root, "config")
    for src in (b"{ a = config; }", b"{ inherit config; }", b"{ a = f config.x; }"):
        tree = cst.parse(src)
        assert uses_variable(tree, tree.root, "config")


@pytest.mark.parametrize(
    ("src", "want"),
    [
        # the file's own config reaches the inline module: nothing to do
        (b"{ config, ... }: { imports = [ { services.x = config.y; } ]; }", []),
        (b"{ config, ... }: { imports = [ { services.x = 1; } ]; }", []),
        # rebound between the file's function and the inline module: not the NixOS one
        (
            b"{ config, ... }: let config = { }; in { imports = [ { services.x = config.y; } ]; }",
            emit.OUTER_CONFIG,
        ),
        (
            b"{ config, ... }: let inherit (x) config; in"
            b" { imports = [ { services.x = config.y; } ]; }",
            emit.OUTER_CONFIG,
        ),
        (
            b"{ config, ... }: { imports = [ (config: { services.x = config.y; }) ]; }",
            None,  # (a function of its own: formals-less, refused as such)
        ),
    ],
)
def test_an_inline_module_inside_a_module_uses_its_config(src: bytes, want: object) -> None:
    """In ``imports = [ { … } ]`` of a NixOS module the file's ``config`` is the NixOS
    config: the inline module needs no function of its own (a flake-parts file's
    ``config`` is another: the caller says which file is a module, ``in_module``)."""
    tree = cst.parse(src)
    at = src.index(b"{ services")
    node = node_at_span(tree, at, src.index(b"}", at) + 1)
    assert node is not None
    got = emit.ensure_inline_config_arg(tree, node, in_module=True)
    if want is None:
        assert isinstance(got, str)
    else:
        assert got == want


def test_an_outer_config_of_a_file_not_known_as_a_module_is_refused() -> None:
    src = b"{ config, ... }: { imports = [ { services.x = config.y; } ]; }"
    tree = cst.parse(src)
    at = src.index(b"{ services")
    node = node_at_span(tree, at, src.index(b"}", at) + 1)
    assert node is not None
    assert emit.ensure_inline_config_arg(tree, node) == emit.OUTER_CONFIG
