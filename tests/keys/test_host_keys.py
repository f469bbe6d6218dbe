"""The pieces of onboarding: the admins-only rule inserted into .sops.yaml by byte span
(everything else byte for byte), keyscan targets and fingerprints, the extra-files
tree refusing the repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from secretkit.errors import SecretkitError, UsageError, UserError
from secretkit.keys.host_keys import (
    HOST_KEYS_REGEX,
    admin_rule_text,
    new_host_key,
    write_extra_files,
)
from secretkit.keys.keyscan import fingerprint, parse_target
from secretkit.sops.config import parse_config
from tests.conftest import need_tool

ADMIN = "age1v8zjc47jmlqwefyu66s0d4ke98qr4vnuj3cpvs4z9npfdw833dxqwjrhzv"
HOST = "age17044m9wgakla6pzftf4srtl3h5mcsr85jysgt5fg23zpnta8sfdqhzn452"

BLOCK = f"""# my config
keys:
  - &admin_stian {ADMIN}
  - &host_immich {HOST}
creation_rules:
  # per host
  - path_regex: ^secrets/immich\\.yaml$
    key_groups:
      - age: [*admin_stian, *host_immich]
  - path_regex: .*
    key_groups:
      - age: [*admin_stian, *host_immich]
"""
INDENTLESS = BLOCK.replace("  - path_regex", "- path_regex").replace(
    "    key_groups:\n      - age", "  key_groups:\n    - age"
)


@pytest.mark.parametrize("text", [BLOCK, INDENTLESS])
def test_admin_rule_goes_first_and_everything_else_stays(text: str, tmp_path: Path) -> None:
    path = tmp_path / ".sops.yaml"
    new = admin_rule_text(text.encode(), ["stian"], path)
    assert new is not None
    config = parse_config(new, path)
    assert config.rules[0].path_regex == HOST_KEYS_REGEX
    assert config.rule_for(tmp_path / "secrets/host-keys/web.yaml") is config.rules[0]
    assert config.rules[0].recipients() == [[ADMIN]]
    assert config.rule_for(tmp_path / "secrets/immich.yaml") is config.rules[1]
    lines = new.decode().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if HOST_KEYS_REGEX in line)
    assert "".join(lines[:at] + lines[at + 3 :]) == text  # the rest byte for byte
    assert admin_rule_text(new, ["stian"], path) is None  # idempotent


def test_admin_rule_refuses_a_flow_style_rules_list(tmp_path: Path) -> None:
    text = f"keys:\n  - &admin_a {ADMIN}\ncreation_rules: [{{path_regex: x, age: {ADMIN}}}]\n"
    with pytest.raises(UserError) as info:
        admin_rule_text(text.encode(), ["a"], tmp_path / ".sops.yaml")
    assert "no block-style creation_rules list" in info.value.message
    assert HOST_KEYS_REGEX in (info.value.hint or "")


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("observer", "observer", None),
        ("10.0.0.5:2222", "10.0.0.5", 2222),
        ("root@observer.lan", "observer.lan", None),
        ("[fe80::1]:22", "fe80::1", 22),
        ("fe80::1", "fe80::1", None),
    ],
)
def test_parse_target(text: str, host: str, port: int | None) -> None:
    assert parse_target(text) == (host, port)


@pytest.mark.parametrize("text", ["-oProxyCommand=x", "host:99999", "a b", "host:x"])
def test_parse_target_refuses(text: str) -> None:
    with pytest.raises(UsageError):
        parse_target(text)


def test_fingerprint_matches_ssh_keygen(tmp_path: Path) -> None:
    keygen = need_tool("ssh-keygen")
    key = new_host_key("web")
    pub = tmp_path / "k.pub"
    pub.write_text(key.public + "\n")
    listed = subprocess.run([keygen, "-lf", str(pub)], capture_output=True, check=True)
    assert listed.stdout.decode().split()[1] == fingerprint(key.public)
    assert key.public.endswith(" root@web")


def test_extra_files_refuse_the_repository_and_another_key(tmp_path: Path) -> None:
    key = new_host_key("web")
    with pytest.raises(SecretkitError):
        write_extra_files(tmp_path / "repo" / "out", key, tmp_path / "repo")
    written = write_extra_files(tmp_path / "out", key, tmp_path / "repo")
    assert [p.name for p in written] == ["ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"]
    assert write_extra_files(tmp_path / "out", key, tmp_path / "repo") == written  # same key
    with pytest.raises(UserError) as info:
        write_extra_files(tmp_path / "out", new_host_key("web"), tmp_path / "repo")
    assert "already holds another key" in info.value.message
