""".sops.yaml read as keys and rules (keys/sops_yaml, the view over sops/config's one parse):
admins and hosts from the layout's anchors, the rule sops would pick, and the one parse
both the view and the engine read."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.errors import ConfigError
from secretkit.keys import sops_yaml as sy
from secretkit.sops.config import config_of_tree, read_tree
from secretkit.sops.yaml_spans import YamlSyntaxError

GOLDEN = Path(__file__).parent / "golden"

ADMIN = "age1v8zjc47jmlqwefyu66s0d4ke98qr4vnuj3cpvs4z9npfdw833dxqwjrhzv"
OBSERVER = "age1hjm3aujg9e79f5yth8a2cejzdjg5n9vnu96l05p70uvfpeltnpms7yy3pp"
IMMICH = "age17044m9wgakla6pzftf4srtl3h5mcsr85jysgt5fg23zpnta8sfdqhzn452"


def before(name: str) -> bytes:
    return (GOLDEN / f"{name}.before.yaml").read_bytes()


def test_read_model(tmp_path: Path) -> None:
    (tmp_path / ".sops.yaml").write_bytes(before("user"))
    model = sy.read_keys(tmp_path)
    assert model.exists
    assert model.admins == {"stian": ADMIN}
    assert model.hosts == {"observer": OBSERVER, "immich": IMMICH}
    assert sy.host_recipient(tmp_path, "immich") == IMMICH
    assert sy.host_recipient(tmp_path, "nope") is None
    shared = sy.rule_for_path(tmp_path, "secrets/shared/db.yaml")
    assert shared is not None and model.hosts_of_rule(shared) == ["observer", "immich"]
    other = sy.rule_for_path(tmp_path, tmp_path / "notes/x.yaml")
    assert other is not None and other.path_regex is None and other.recipients == (ADMIN,)
    assert not sy.read_keys(tmp_path / "nothing-here").exists


def test_the_view_and_the_engine_read_one_parse(tmp_path: Path) -> None:
    data = before("user")
    tree = read_tree(data)
    view = sy.model_of(tmp_path / ".sops.yaml", tree)
    engine = config_of_tree(tree, tmp_path / ".sops.yaml")
    assert [r.path_regex for r in view.rules] == [r.path_regex for r in engine.rules]
    for rule, engine_rule in zip(view.rules, engine.rules, strict=True):
        ages = [[k.ident for k in group if k.kind == "age"] for group in engine_rule.key_groups]
        assert [list(g) for g in rule.groups] == ages  # the view reads the age keys


def test_a_parse_error_keeps_each_readers_message(tmp_path: Path) -> None:
    # the one parse raises one error; the view and the engine word it as before
    data = b"keys:\n  - &a age1x\n  - &a age1y\n"
    with pytest.raises(YamlSyntaxError):
        read_tree(data)
    with pytest.raises(ConfigError) as view:
        sy.parse_tree(data)
    assert view.value.message == ".sops.yaml defines an anchor twice (line 3, column 5)"
    from secretkit.sops.config import parse_config

    with pytest.raises(ConfigError) as engine:
        parse_config(data, tmp_path / ".sops.yaml")
    assert engine.value.message == (
        f"{tmp_path / '.sops.yaml'} defines an anchor twice at line 3, column 5"
    )
    with pytest.raises(ConfigError) as text:
        sy.parse_tree(b"\xff")
    assert text.value.message == ".sops.yaml is not UTF-8 text"
