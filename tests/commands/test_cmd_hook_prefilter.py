"""The hook's fast pre-check on the ``.sops.yaml`` text (commands/hook): False only
when no rule can name a staged path a secrets file, and never False where the real
rules (gate/sops_verify.names_a_secrets_file) say one is."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sops.keys_support import age_key


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
    from secretkit.commands.hook import might_name_secrets_files

    assert might_name_secrets_files(config, paths) is maybe


def test_the_fast_pre_check_agrees_with_the_real_rules(tmp_path: Path) -> None:
    from secretkit.commands.hook import might_name_secrets_files
    from secretkit.gate.sops_verify import names_a_secrets_file
    from secretkit.keys import sops_yaml
    from secretkit.sops.config import find_config

    sops_yaml.init(tmp_path, age_key().public, "alice")
    for host in ("observer", "laptop"):
        sops_yaml.add_host(tmp_path, host, age_key().public)
    text = (tmp_path / ".sops.yaml").read_bytes()
    config = find_config(tmp_path)
    assert config is not None
    for path in (
        "secrets/observer.yaml",
        "secrets/laptop.yaml",
        "hosts/observer.nix",
        "secrets/observer.yaml.dec",
        "flake.nix",
        "secrets/other.yaml",
    ):
        if names_a_secrets_file(config, tmp_path / path):
            assert might_name_secrets_files(text, [path])
    assert not might_name_secrets_files(text, ["hosts/observer.nix", "flake.nix"])
