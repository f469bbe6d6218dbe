"""rules.py: what a secrets.nix says, read without evaluating Nix; refusals as a table."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.agenix.rules import PublicKey, RulesError, read_rules

ALICE = "age1" + "q" * 58
WEB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIWEB root@web"


def _read(tmp_path: Path, text: str) -> dict[str, list[tuple[str, str | None]]]:
    path = tmp_path / "secrets.nix"
    path.write_text(text)
    return {r.file: [(k.value, k.name) for k in r.keys] for r in read_rules(path)}


def test_let_names_lists_concatenation_and_attrsets(tmp_path: Path) -> None:
    text = f"""
    let
      alice = "{ALICE}";  # a person
      users = {{ zed = "x"; alice = alice; }};
      web = "{WEB}";
      systems = [ web ];
    in
    {{
      "a.age".publicKeys = [ alice ] ++ systems;
      "dir/b.age" = {{ publicKeys = builtins.attrValues users; armor = true; }};
      "c.age".publicKeys = [ users.alice "{WEB}" ];
    }}
    """
    rules = _read(tmp_path, text)
    assert rules["a.age"] == [(ALICE, "alice"), (WEB, "web")]
    assert rules["dir/b.age"] == [(ALICE, "alice"), ("x", "zed")]  # by name, as Nix
    assert rules["c.age"] == [(ALICE, "alice"), (WEB, None)]
    armored = {r.file: r.armor for r in read_rules(tmp_path / "secrets.nix")}
    assert armored == {"a.age": False, "dir/b.age": True, "c.age": False}


def test_a_bare_attrset_without_let(tmp_path: Path) -> None:
    assert _read(tmp_path, f'{{ "x.age".publicKeys = [ "{ALICE}" ]; }}') == {
        "x.age": [(ALICE, None)]
    }
    assert PublicKey(ALICE, None) == PublicKey(ALICE, None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{ "x.age".publicKeys = [ "a" ;', "secrets.nix line 1: syntax error"),
        ('{ "x.age".publicKeys = map (k: k) [ ]; }', "secrets.nix line 1: a function call"),
        ('{ "x.age".publicKeys = [ nobody ]; }', "nobody is not defined in the let block"),
        ('let a = b; b = a; in { "x.age".publicKeys = [ a ]; }', "refer to each other in a loop"),
        ('let k = "age1x"; in { "x.age".publicKeys = [ "${k}" ]; }', "interpolation"),
        ('{ "x.age".armor = true; }', "x.age has no list of public keys"),
        ('{ "x.age".publicKeys = [ ]; }', "x.age has an empty publicKeys list"),
        ('{ "x.age" = "nope"; }', "x.age is not an attrset with publicKeys"),
        ('[ "x.age" ]', "secrets.nix is not an attrset of rules"),
        ("{ inherit (x) y; }", "inherit is not supported"),
        ('{ "x.age".publicKeys = [ "a" ] // [ ]; }', "line 1: operator //"),
    ],
)
def test_refusals_name_the_place(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RulesError) as info:
        _read(tmp_path, text)
    assert message in info.value.one_line()
    assert info.value.exit_code == 3
