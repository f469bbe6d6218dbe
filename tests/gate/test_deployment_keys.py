"""nix-secret-refs: a colmena deployment key read from sops-nix's output, which exists
on the host only (colmena reads keyFile and runs keyCommand where it deploys from)."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.gate.context import CheckContext
from secretkit.gate.deployment_keys import host_only_key_sources
from secretkit.gate.sops_verify import SopsJudge
from tests.conftest import git


def _results(repo: Path, key: str) -> list[tuple[str, str]]:
    (repo / "hive.nix").write_text(
        '{\n  meta.nixpkgs = <nixpkgs>;\n  web = { config, ... }: let dir = "/run/secrets"; in {\n'
        f'    deployment.keys."db-pass" = {{ {key} user = "postgres"; }};\n  }};\n}}\n'
    )
    git(repo, "add", "-A")
    found = host_only_key_sources(CheckContext(root=repo, judge=SopsJudge()))
    assert all(r.id == "nix-secret-refs" and not r.ok for r in found)
    return [(r.message, r.fix) for r in found]


@pytest.mark.parametrize(
    "key",
    [
        'keyFile = "/run/secrets/db-pass";',
        'keyFile = config.sops.secrets."db-pass".path;',
        'keyCommand = [ "cat" "/run/secrets/db-pass" ];',
        # (a let-bound directory: let dir = "/run/secrets"; …)
        'keyFile = "${dir}/db-pass";',
    ],
)
def test_a_key_read_from_the_hosts_secrets_fails(tmp_git_repo: Path, key: str) -> None:
    ((message, fix),) = _results(tmp_git_repo, key)
    field = key.split(" ")[0]
    assert message == (
        f"hive.nix:4: deployment.keys.db-pass.{field} reads sops-nix's output on the "
        f"host, but colmena and NixOps read {field} on the machine that deploys, where that "
        "file does not exist: the deploy fails"
    )
    assert fix.startswith("delete deployment.keys.db-pass (sops-nix already decrypts")
    assert fix.endswith(
        "point what reads /run/keys/db-pass at config.sops.secrets.db-pass.path, declared "
        'with owner = "postgres"'
    )


@pytest.mark.parametrize(
    "key",
    [
        "keyFile = ./keys/db-pass;",  # (a file where colmena runs: what keyFile is for)
        'keyCommand = [ "sops" "-d" "--extract" "[\\"db\\"]" "secrets/web.yaml" ];',
        "",  # (the fix: the key gone, sops-nix's secret read on the host)
    ],
)
def test_a_key_from_the_deploying_machine_is_not_judged(tmp_git_repo: Path, key: str) -> None:
    assert _results(tmp_git_repo, key) == []
