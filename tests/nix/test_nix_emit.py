"""emit.py: sops-nix snippets, quoting, and the edits that insert options."""

from __future__ import annotations

import subprocess

import pytest

from secretkit.nix import cst, emit
from secretkit.nix.edits import apply_edits
from tests.conftest import need_tool


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
