"""The example homelab after ``migrate --yes``, through the semantic harness: every host
evaluates against the recorded declarations, every file a service opens belongs to
the user of the process that opens it (wpa_supplicant's secrets file, Prometheus'
credentials file, Grafana's ``$__file``, …), and no changed file fails to parse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, git, need_tool
from tests.support.harness import evaluate, problems
from tests.support.nixfind import EXPECTED_ACCESS, Homelab, make_homelab

pytestmark = pytest.mark.slow  # real nix-instantiate per host, real age, git


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Homelab:
    base = tmp_path_factory.mktemp("homelab")
    repo = base / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Test Author")
    git(repo, "config", "user.email", "author@example.invalid")
    git(repo, "config", "commit.gpgsign", "false")
    lab = make_homelab(repo, base / "keys")
    env = dict(os.environ, PYTHONPATH=str(ROOT), SOPS_AGE_KEY_FILE=str(lab.admin_key))
    proc = subprocess.run(
        [sys.executable, "-m", "secretkit", "-C", str(repo), "migrate", "--yes"],
        capture_output=True, text=True, input="", env=env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return lab


def _modules(repo: Path, host: str) -> list[str]:
    return ["modules/common.nix", f"hosts/{host}/default.nix"]


@pytest.mark.parametrize("host", sorted(EXPECTED_ACCESS))
def test_host_evaluates_and_each_reader_owns_its_files(
    migrated: Homelab, host: str, tmp_path: Path
) -> None:
    need_tool("nix-instantiate")
    facts = evaluate(migrated.repo, _modules(migrated.repo, host), host, tmp_path)
    assert set(facts["secrets"]) == EXPECTED_ACCESS[host]
    assert problems(host, facts, job_users={"stian"}) == []


def test_wifi_secrets_file_belongs_to_wpa_supplicant(migrated: Homelab, tmp_path: Path) -> None:
    need_tool("nix-instantiate")
    facts = evaluate(migrated.repo, _modules(migrated.repo, "stian-dell-nixos"), "x", tmp_path)
    [wifi] = [u for u in facts["uses"] if u["option"] == "networking.wireless.secretsFile"]
    assert wifi["found"] == ["/run/secrets/rendered/wireless-secrets"]
    assert facts["templates"]["wireless-secrets"]["owner"] == "wpa_supplicant"
