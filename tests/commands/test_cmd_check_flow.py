"""The whole keep-clean story on the example homelab, through the CLI only:
migrate (via `secretkit demo`) → check fails on history alone → purge → check passes.

The sops files are real (the engine, real age keys for real ssh host keys); the
secrets are the demo's generated fakes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, commit_all, git, need_tool


def cli(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "secretkit", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        input="",
        env=dict(os.environ, PYTHONPATH=str(ROOT), **(env or {})),
    )


def failed_points(repo: Path, env: dict[str, str]) -> set[str]:
    proc = cli(repo, "check", "--format", "json", env=env)
    report = json.loads(proc.stdout)
    failed = {c["id"] for c in report["checks"] if not c["ok"]}
    assert proc.returncode == (1 if failed else 0), proc.stderr
    return failed


@pytest.mark.slow
def test_migrated_homelab_is_safe_to_publish_after_purge(tmp_path: Path) -> None:
    need_tool("git-filter-repo")
    demo = cli(tmp_path, "demo", "--dir", str(tmp_path), "--keep")
    assert demo.returncode == 0, demo.stderr
    repo = tmp_path / "homelab"
    env = {"SOPS_AGE_KEY_FILE": str(tmp_path / "keys" / "admin.agekey")}
    commit_all(repo, "migrate to sops-nix")

    # the tree is clean and every sops file is right; only history still holds secrets
    assert failed_points(repo, env) == {"plaintext-history"}

    purge = cli(repo, "purge", "--yes", env=env)
    assert purge.returncode == 0, purge.stderr
    assert (
        "services.prometheus.alertmanager.configuration.receivers.[0].pushover_configs.[0].token"
        in purge.stdout
    )
    assert "services.prometheus.scrapeConfigs.[1].authorization.credentials" in purge.stdout

    # the local backup of the old history still holds the secrets: not yet safe
    assert git(repo, "for-each-ref", "refs/secretkit/backup/").strip()
    assert failed_points(repo, env) == {"plaintext-history"}
    drop = git(repo, "for-each-ref", "--format=delete %(refname)", "refs/secretkit/backup/")
    git(repo, "update-ref", "--stdin", input=drop.encode())
    assert failed_points(repo, env) == set()
    text = cli(repo, "check", env=env)
    assert text.returncode == 0
    # safe, with the warning that the purged values were never rotated
    assert text.stdout.rstrip().endswith("safe to publish (1 warning(s) above)")
    assert "were committed in plaintext before a purge and not rotated" in text.stdout
    # the way out is on its own line, whole; the warning does not repeat it clipped
    (warned,) = [line for line in text.stdout.splitlines() if line.startswith("warn ")]
    assert "--from-stdin" not in warned
    assert any(
        line.strip().startswith("fix: secretkit rotate value") and "--kind KIND" in line
        for line in text.stdout.splitlines()
    )

    # a hand edit that drops the owner migrate wrote: prometheus could not open the file
    monitoring = repo / "hosts" / "observer" / "monitoring.nix"
    written = monitoring.read_text()
    assert written.count('    owner = "prometheus";\n') == 1
    monitoring.write_text(written.replace('    owner = "prometheus";\n', ""))
    commit_all(repo, "no owner")
    assert failed_points(repo, env) == {"service-readable"}
    report = json.loads(cli(repo, "check", "--format", "json", env=env).stdout)
    (failed,) = [c for c in report["checks"] if not c["ok"]]
    assert "is read by the prometheus user at run time" in failed["message"]
    assert failed["fix"].startswith('add owner = "prometheus"; to sops.secrets."')
    monitoring.write_text(written)  # (the fix)
    commit_all(repo, "owner again")
    assert failed_points(repo, env) == set()
