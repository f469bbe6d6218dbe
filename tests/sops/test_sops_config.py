"""``.sops.yaml`` lookup and creation rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyrage import x25519

from secretkit.errors import ConfigError
from secretkit.sops.config import KeyRef, find_config, might_name_secrets_files, parse_config
from secretkit.sops.metadata import CryptRule

FP1 = "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4"
FP2 = "D7229043384BCC60326C6FB9D8720D957C3D3074"


def _recipient() -> str:
    return str(x25519.Identity.generate().to_public())


def test_lookup_walks_up_from_the_start_directory(tmp_path: Path) -> None:
    (tmp_path / ".sops.yaml").write_text("creation_rules: []\n")
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    config = find_config(deep, env={})
    assert config is not None and config.path == tmp_path / ".sops.yaml"
    (deep / ".sops.yml").write_text("creation_rules: []\n")  # ignored like sops
    assert find_config(deep, env={}).path == tmp_path / ".sops.yaml"  # type: ignore[union-attr]


def test_lookup_stops_after_100_parents(tmp_path: Path) -> None:
    (tmp_path / ".sops.yaml").write_text("creation_rules: []\n")
    deep = tmp_path.joinpath(*["d"] * 101)
    deep.mkdir(parents=True)
    assert find_config(deep, env={}) is None
    assert find_config(deep.parent, env={}) is not None


def test_sops_config_env_wins(tmp_path: Path) -> None:
    (tmp_path / ".sops.yaml").write_text("creation_rules: []\n")
    other = tmp_path / "elsewhere.yaml"
    other.write_text(f"creation_rules:\n  - age: {_recipient()}\n")
    config = find_config(tmp_path, env={"SOPS_CONFIG": str(other)})
    assert config is not None and config.path == other
    with pytest.raises(ConfigError, match="SOPS_CONFIG points to"):
        find_config(tmp_path, env={"SOPS_CONFIG": str(tmp_path / "missing.yaml")})


def test_first_match_unanchored_relative_to_config_dir(tmp_path: Path) -> None:
    a, b, c = _recipient(), _recipient(), _recipient()
    text = f"""
keys:
  - &admin {a}
creation_rules:
  - path_regex: secrets/web\\.yaml$
    age: [*admin, {b}]
  - path_regex: ^secrets/
    age: "{a}, {c}"
  - age: {a}
"""
    config = parse_config(text.encode(), tmp_path / ".sops.yaml")
    rule = config.rule_for(tmp_path / "secrets/web.yaml")
    assert rule is not None and rule.recipients() == [[a, b]]
    assert config.rule_for(tmp_path / "x/secrets/web.yaml").recipients() == [[a, b]]  # type: ignore[union-attr]
    assert config.rule_for(tmp_path / "secrets/db.yaml").recipients() == [[a, c]]  # type: ignore[union-attr]
    # ^secrets/ does not match a path outside the config dir (kept absolute)
    assert config.rule_for(Path("/elsewhere/secrets/db.yaml")).recipients() == [[a]]  # type: ignore[union-attr]
    assert config.rules[0].crypt_rule is None


def test_key_groups_merge_shamir_and_crypt_rules(tmp_path: Path) -> None:
    a, b, c = _recipient(), _recipient(), _recipient()
    text = f"""
stores:
  yaml: {{indent: 2}}
  json: {{indent: 3}}
creation_rules:
  - path_regex: .*
    shamir_threshold: 2
    encrypted_regex: ^(data|stringData)$
    mac_only_encrypted: true
    key_groups:
      - age: [{a}]
        pgp: [{FP1}]
      - merge:
          - age: [{b}]
          - age: [{b}, {c}]
      - pgp: [{FP2}]
"""
    config = parse_config(text.encode(), tmp_path / ".sops.yaml")
    rule = config.rules[0]
    assert rule.key_groups == [
        [KeyRef("age", a), KeyRef("pgp", FP1)],
        [KeyRef("age", b), KeyRef("age", c)],
        [KeyRef("pgp", FP2)],
    ]
    assert rule.shamir_threshold == 2
    assert rule.crypt_rule == CryptRule("encrypted_regex", "^(data|stringData)$")
    assert rule.mac_only_encrypted is True
    assert (rule.yaml_indent, rule.json_indent) == (2, 3)


def test_unknown_keys_are_ignored_like_sops(tmp_path: Path) -> None:
    a = _recipient()
    # the path_regexp typo makes the rule match everything (humphd/sops-age's config)
    config = parse_config(
        f"creation_rules:\n  - path_regexp: nope\n    age: {a}\n".encode(), tmp_path / "c.yaml"
    )
    assert config.rule_for(tmp_path / "anything.json").recipients() == [[a]]  # type: ignore[union-attr]


def test_real_sops_functional_test_config_parses(sops_fixtures: Path) -> None:
    path = sops_fixtures / "getsops-sops/functional-tests/dot-sops.yaml"
    with pytest.raises(ConfigError, match="rule 5: key group 1 names no keys"):
        parse_config(path.read_bytes(), path)
    text = path.read_text().replace("        - {}\n", "        - {pgp: [" + FP1 + "]}\n")
    config = parse_config(text.encode(), path)
    rule = config.rule_for(path.parent / "test_roundtrip_keygroups.yaml")
    assert rule is not None and rule.recipients() == [[FP1], [FP2]]
    assert config.rule_for(path.parent / "other.yaml").recipients() == [[FP1]]  # type: ignore[union-attr]
    assert config.rule_for(path.parent / "test_no_keygroups.yaml").key_groups == []  # type: ignore[union-attr]


MALFORMED = [
    ("creation_rules: [\n", "c.yaml is not valid YAML at line 2, column 1"),
    ("- just\n- a list\n", "c.yaml must be a YAML mapping with creation_rules"),
    ("creation_rules: {}\n", "c.yaml: creation_rules must be a list of rules"),
    ("creation_rules:\n  - 42\n", "c.yaml rule 1 must be a mapping"),
    (
        "creation_rules:\n  - path_regex: '('\n",
        "c.yaml rule 1: path_regex is not a valid regular expression (missing ), "
        "unterminated subpattern)",
    ),
    (
        "creation_rules:\n  - age: age1bogus\n",
        "c.yaml rule 1: not a valid age recipient: age1bogus",
    ),
    (
        "creation_rules:\n  - unencrypted_suffix: _u\n    encrypted_regex: x\n",
        "c.yaml rule 1 sets more than one of unencrypted_suffix, encrypted_regex",
    ),
    (
        "creation_rules:\n  - kms: arn:aws:kms:x\n",
        "c.yaml rule 1: kms keys are not supported by secretkit (age and pgp are)",
    ),
    ("creation_rules:\n  - shamir_threshold: -1\n", "shamir_threshold must be a non-negative"),
    ("stores: {yaml: {indent: many}}\n", "c.yaml: stores.yaml.indent must be a small integer"),
    ("creation_rules:\n  - mac_only_encrypted: maybe\n", "mac_only_encrypted must be true or"),
    ("creation_rules:\n  - key_groups: {age: x}\n", "c.yaml rule 1: key_groups must be a list"),
]


@pytest.mark.parametrize(("text", "message"), MALFORMED)
def test_malformed_configs(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text.encode(), tmp_path / "c.yaml")
    assert message in info.value.message
    assert "\n" not in info.value.one_line()
    assert info.value.hint  # every malformed config says what to do


# the hook's quick look at the text before any parse (was in tests/commands/)
@pytest.mark.parametrize(
    ("config", "paths", "maybe"),
    [
        (b"creation_rules:\n  - path_regex: ^secrets/h\\.yaml$\n", ["hosts/h.nix"], False),
        (b"creation_rules:\n  - path_regex: ^secrets/h\\.yaml$\n", ["secrets/h.yaml"], True),
        (b"creation_rules:\n  - path_regex: '^secrets/.*'  # ours\n", ["secrets/x"], True),
        (b"creation_rules:\n  - path_regex: '^secrets/.*'  # ours\n", ["a.nix"], False),
        (b"creation_rules:\n  - age: age1x\n", ["a.nix"], False),  # catch-all only
        (b'creation_rules:\n  - path_regex: "^secrets/\\\\.x"\n', ["a.nix"], True),  # escapes
        (b"creation_rules: [{path_regex: ^secrets/, age: x}]\n", ["a.nix"], True),  # flow
        (b"creation_rules:\n  - path_regex: ^secrets/(\n", ["a.nix"], True),  # invalid
        (b"creation_rules:\n  - path_regex: *shared\n", ["a.nix"], True),  # alias
    ],
)
def test_the_fast_pre_check_is_conservative(config: bytes, paths: list[str], maybe: bool) -> None:
    assert might_name_secrets_files(config, paths) is maybe


def test_the_pre_check_loads_no_yaml_parser_and_no_crypto() -> None:
    """The hook runs the pre-check on every commit in a repository with a .sops.yaml:
    importing sops/config for it must not bring in ruamel or the age/pgp libraries."""
    import json
    import subprocess
    import sys

    probe = (
        "import json, sys\n"
        "from secretkit.sops.config import might_name_secrets_files\n"
        "text = b'creation_rules:\\n  - path_regex: ^secrets/h\\\\.yaml$\\n'\n"
        "answer = might_name_secrets_files(text, ['hosts/h.nix'])\n"
        "print(json.dumps([answer, sorted(sys.modules)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    answer, modules = json.loads(out.stdout)
    assert answer is False
    heavy = ("ruamel", "pyrage", "cryptography", "gnupg", "secretkit.sops.keysources")
    assert [m for m in modules if m.split(".")[0] in heavy or m.startswith(heavy)] == []
