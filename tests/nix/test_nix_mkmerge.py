"""secretkit.nix.mkmerge through emit.ensure_option: an option below a binding whose value
is an expression goes in through lib.mkMerge; each result put to ``nix-instantiate
--parse``, and evaluated where the module system's merge is what is asserted."""

from __future__ import annotations

import json
import subprocess

import pytest

from secretkit.nix import cst, emit
from secretkit.nix.edits import checked_apply
from tests.conftest import need_tool

PATH = ["systemd", "services", "up", "serviceConfig", "EnvironmentFile"]
REF = "[ /run/t ]"


def _set(source: str, path: list[str] = PATH, expr: str = REF) -> tuple[str, emit.OptionState]:
    tree = cst.parse(source.encode())
    top = cst.module_body(tree)
    assert top is not None
    state = emit.ensure_option(tree, top, path, expr)
    edits = [state.edit, *state.more] if state.edit is not None else []
    return checked_apply(tree.source, edits).decode(), state


def _parses(text: str) -> None:
    nix = need_tool("nix-instantiate")
    proc = subprocess.run([nix, "--parse", "-E", text], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_a_value_becomes_the_first_of_a_mkmerge() -> None:
    source = (
        "{ config, lib, ... }:\nlet h = { A = 1; }; in\n{\n"
        "  systemd.services.up = {\n    serviceConfig = h;\n  };\n}\n"
    )
    text, _ = _set(source)
    assert text == (
        "{ config, lib, ... }:\nlet h = { A = 1; }; in\n{\n"
        "  systemd.services.up = {\n    serviceConfig = lib.mkMerge [\n      h\n"
        "      { EnvironmentFile = [ /run/t ]; }\n    ];\n  };\n}\n"
    )
    _parses(text)


def test_lib_is_added_to_the_formals_when_the_module_lacks_it() -> None:
    text, _ = _set("{ pkgs, ... }:\n{\n  systemd.services.up.serviceConfig = pkgs.h;\n}\n")
    assert text.startswith("{ pkgs, lib, ... }:")
    assert "serviceConfig = lib.mkMerge [\n    pkgs.h\n" in text
    _parses(text)
    text, _ = _set("{ pkgs }:\n{ systemd.services.up.serviceConfig = pkgs.h; }\n")
    assert text.startswith("{ pkgs, lib }:")
    _parses(text)


def test_an_application_is_put_in_parentheses() -> None:
    source = "{ lib, ... }:\n{\n  systemd.services.up = lib.mkIf true { };\n}\n"
    text, _ = _set(source)
    assert "lib.mkMerge [\n    (lib.mkIf true { })\n    { serviceConfig.EnvironmentFile" in text
    _parses(text)


def test_an_existing_mkmerge_gets_one_element_more_and_a_second_run_none() -> None:
    source = (
        "{ lib, ... }:\n{\n  systemd.services.up.serviceConfig = lib.mkMerge [\n"
        "    { A = 1; }\n  ];\n}\n"
    )
    text, _ = _set(source)
    assert "    { A = 1; }\n    { EnvironmentFile = [ /run/t ]; }\n  ];" in text
    _parses(text)
    again, state = _set(text)
    assert again == text
    assert state.edit is None and state.existing == REF


@pytest.mark.parametrize(
    ("source", "why"),
    [
        (
            "{ lib, ... }:\nlet lib = 1; in { systemd.services.up.serviceConfig = h; }\n",
            "lib is bound",
        ),
        ("{ systemd.services.up.serviceConfig = h; }\n", "not a function"),
        ('{ lib, ... }: { systemd.services.up.serviceConfig = "x"; }\n', "by hand"),
    ],
)
def test_where_lib_is_not_the_module_s_the_way_is_said_not_taken(source: str, why: str) -> None:
    tree = cst.parse(source.encode())
    top = cst.module_body(tree)
    state = emit.ensure_option(tree, top, PATH, REF)
    assert state.edit is None and state.refusal is not None
    assert why in state.refusal
    assert "lib.mkMerge [ <its value> { EnvironmentFile = [ /run/t ]; } ]" in state.refusal


def test_nixpkgs_module_merge_keeps_both_definitions() -> None:
    # the module system's own merge, with nixpkgs' mkMerge semantics written out:
    # lib.modules' pushDownProperties flattens { _type = "merge"; contents } before merging
    nix = need_tool("nix-instantiate")
    text, _ = _set(
        '{ lib, ... }:\nlet h = { A = 1; EnvironmentFile = [ "/run/x" ]; }; in\n'
        "{ systemd.services.up.serviceConfig = h; }\n",
        expr='[ "/run/t" ]',
    )
    module = text.split(":", 1)[1]
    expr = (
        'let lib = { mkMerge = contents: { _type = "merge"; inherit contents; }; };'
        " m = " + module + ";"
        " v = m.systemd.services.up.serviceConfig;"
        ' parts = if v._type or null == "merge" then v.contents else [ v ];'
        " in { A = builtins.concatMap (p: if p ? A then [ p.A ] else [ ]) parts;"
        " files = builtins.concatMap (p: p.EnvironmentFile or [ ]) parts; }"
    )
    proc = subprocess.run(
        [nix, "--eval", "--strict", "--json", "-E", expr], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"A": [1], "files": ["/run/x", "/run/t"]}
