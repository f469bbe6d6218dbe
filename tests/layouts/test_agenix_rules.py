"""rules.py: what a secrets.nix says, read without evaluating Nix; refusals as a table."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.layouts.agenix_rules import PublicKey, RulesError, read_rules

ALICE = "age1" + "q" * 58
WEB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIWEB root@web"


def _read(tmp_path: Path, text: str) -> dict[str, list[tuple[str, str | None]]]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "secrets.nix"
    path.write_text(text)
    rules = read_rules(path, "secrets.nix", tmp_path)
    return {r.file: [(k.value, k.name) for k in r.keys] for r in rules}


def test_with_and_import_of_a_keys_file(tmp_path: Path) -> None:
    """``identities = import ./identities.nix;`` and ``with identities; [ … ]`` (a
    common secrets.nix): keys come from the imported file, named as it names them; a
    let name hides a ``with`` one, as in Nix."""
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "identities.nix").write_text(
        f'{{ alice = "{ALICE}"; web1 = "{WEB}"; }}\n'
    )
    rules_file = tmp_path / "secrets" / "secrets.nix"
    rules_file.write_text(
        'let\n  identities = import ./identities.nix;\n  alice = "age1shadow";\nin\n{\n'
        '  "a.age".publicKeys = with identities; [ web1 ];\n'
        '  "b.age".publicKeys = with identities; [ alice web1 ];\n'
        '  "c.age".publicKeys = builtins.attrValues (import ./identities.nix);\n}\n'
    )
    rules = {
        r.file: [(k.value, k.name) for k in r.keys]
        for r in read_rules(rules_file, "secrets/secrets.nix", tmp_path)
    }
    assert rules["a.age"] == [(WEB, "web1")]
    assert rules["b.age"] == [("age1shadow", "alice"), (WEB, "web1")]  # the let name wins
    assert rules["c.age"] == [(ALICE, "alice"), (WEB, "web1")]


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
    armored = {r.file: r.armor for r in read_rules(tmp_path / "secrets.nix", "secrets.nix")}
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
        ('{ "x.age".publicKeys = with { a = "k"; }; [ b ]; }', "nor the with scopes"),
        ('{ "x.age".publicKeys = with [ ]; [ b ]; }', "with of something that is not"),
        ('{ "x.age".publicKeys = import /etc/keys.nix; }', "an import outside the repository"),
        ('{ "x.age".publicKeys = import ../../keys.nix; }', "an import outside the repository"),
        ('{ "x.age".publicKeys = import ./missing.nix; }', "cannot read missing.nix"),
        ('{ "x.age".publicKeys = import ./secrets.nix; }', "secrets.nix imports itself"),
    ],
)
def test_refusals_name_the_place(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RulesError) as info:
        _read(tmp_path / "repo", text)
    assert message in info.value.one_line()
    assert info.value.exit_code == 3
