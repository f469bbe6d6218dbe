"""secretkit.nix.duplicates: what Nix's parser rejects as "already defined", each case
also put to ``nix-instantiate --parse`` (the oracle the table was read from)."""

from __future__ import annotations

import re
import subprocess

import pytest

from secretkit.nix import cst
from secretkit.nix.duplicates import defined_twice
from secretkit.nix.edits import Edit, EditError, checked_apply
from tests.conftest import need_tool

# (Nix text, the dotted path given twice, or None: Nix parses it)
CASES = [
    ("{ a = { x = 1; }; a.y = 2; }", None),
    ("{ a.y = 2; a = { x = 1; }; }", None),
    ("{ a = { x = 1; }; a = { y = 2; }; }", None),
    ("{ a = b; a.y = 2; }", "a.y"),
    ("{ a = rec { x = 1; }; a.y = 2; }", None),
    ("{ a = { x = 1; }; a.x.z = 2; }", "a.x.z"),
    ("{ inherit a; a.c = 1; }", "a.c"),
    ("let a.x = 1; a = { y = 2; }; in a", None),
    ('{ a = { x = 1; }; "a".y = 2; }', None),
    ("{ a = 1; a = 2; }", "a"),
    ("{ a = { x = { p = 1; }; }; a = { x = { q = 2; }; }; }", None),
    ("{ a = { x = { p = 1; }; }; a = { x = { p = 2; }; }; }", "a.x.p"),
    ("{ s.settings.server.interface = [ ]; s.settings = { server = { d = 1; }; }; }", None),
    ('{ a = 1; ${"a"} = 2; }', "a"),
    ("{ a = { x = { p = 1; }; }; a.x.q = 2; }", None),
    ("{ a = ({ x = 1; }); a.y = 2; }", None),
    ("{ a = { inherit b; }; a.b.c = 1; }", "a.b.c"),
    ("{ a.b.c = 1; a.b.c = 2; }", "a.b.c"),
    ("{ a.b.c = 1; a.b.d = 2; a.b = { e = 3; }; }", None),
    ("{ a.b = { e = 3; }; a.b = { e = 4; }; }", "a.b.e"),
    ("{ x = { a = b; a.y = 1; }; }", "a.y"),
    ("{ inherit (s) a; a = 2; }", "a"),
    ("let inherit (s) a; a.b = 1; in a", "a.b"),
    ("{ s = { serviceConfig = h; }; s.serviceConfig.EnvironmentFile = [ ]; }",
     "s.serviceConfig.EnvironmentFile"),
    ("{ s = { serviceConfig = { A = 1; }; }; s.serviceConfig.EnvironmentFile = [ ]; }", None),
    ("{ a = let b = 1; in { c = 1; }; a.d = 2; }", "a.d"),
    ('{ "a.b" = 1; a.b = 2; }', None),
    ("{ f = x: { a = 1; a = 2; }; }", "a"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "twice"), CASES)
def test_what_nix_rejects_as_already_defined(text: str, twice: str | None) -> None:
    found = defined_twice(cst.parse(text.encode()))
    assert [t.path for t in found] == ([twice] if twice else [])


# Two set literals that give one name a set each merge recursively in current Nix
# (ParserState::addAttr, NixOS/nix 03a6533d5bd4); Nix 2.8 (Debian's nix-bin, the
# oracle here) refuses them, naming the inner attribute (also where both refuse).
OLDER_NIX_REFUSES = {
    "{ a = { x = { p = 1; }; }; a = { x = { p = 2; }; }; }": "x",
    "{ a = { x = { p = 1; }; }; a = { x = { q = 2; }; }; }": "x",
    "{ s.settings.server.interface = [ ]; s.settings = { server = { d = 1; }; }; }": "server",
}


@pytest.mark.parametrize(("text", "twice"), CASES)
def test_the_table_is_what_nix_says(text: str, twice: str | None) -> None:
    nix = need_tool("nix-instantiate")
    proc = subprocess.run([nix, "--parse", "-E", text], capture_output=True, text=True)
    if text in OLDER_NIX_REFUSES and proc.returncode != 0:
        assert f"attribute '{OLDER_NIX_REFUSES[text]}' already defined" in proc.stderr
    elif twice is None:
        assert proc.returncode == 0, proc.stderr
    else:  # (in two merged sets Nix names the inner attribute alone)
        named = re.search(r"attribute '([^']*)' already defined", proc.stderr)
        assert named is not None, proc.stderr
        assert twice == named[1] or twice.endswith("." + named[1])


def test_an_edit_that_gives_an_attribute_twice_is_refused_before_writing() -> None:
    source = b"{\n  s = {\n    serviceConfig = hardening;\n  };\n}\n"
    at = source.index(b"  };")
    edit = Edit(at, at, "    serviceConfig.EnvironmentFile = [ ];\n")
    with pytest.raises(EditError, match=r"give serviceConfig\.EnvironmentFile twice \(line 4\)"):
        checked_apply(source, [edit], where="m.nix")


def test_a_clash_the_file_had_already_is_not_the_edit_s() -> None:
    source = b"{ a = 1; a = 2; b = 1; }\n"
    at = source.index(b"b = 1;")
    assert checked_apply(source, [Edit(at, at, "c = 3; ")]).startswith(b"{ a = 1; a = 2; c = 3;")


def test_sets_nested_deeper_than_python_recursion_merge_without_error() -> None:
    inner = "{ " + "a = { " * 1500 + "p = 1;" + " };" * 1500 + " }"
    (twice,) = defined_twice(cst.parse(f"{{ x = {inner}; x = {inner}; }}".encode()))
    assert twice.path == "x" + ".a" * 1500 + ".p"
