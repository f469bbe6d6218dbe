"""A file that is not Nix, whose path a host's module hands to the configuration
(``EnvironmentFile = ./myapp.env``): migrate's by-hand route named
``secrets/<host>.yaml`` where the one host reading it was known, and pasted into a
shell, ``<host>`` is a redirection (a stranger's run on JulienMalka/snowfield).
migrate and check now both name that host's file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import commit_all
from tests.support import fake


def _secretkit(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "secretkit", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_route_for_a_file_a_host_reads_names_that_hosts_sops_file(
    tmp_git_repo: Path,
) -> None:
    repo = tmp_git_repo
    (repo / "hosts" / "gus").mkdir(parents=True)
    (repo / "hosts" / "gus" / "default.nix").write_text(
        "{ ... }:\n{\n  systemd.services.app.serviceConfig.EnvironmentFile = ./myapp.env;\n}\n"
    )
    value = fake.password("myapp")
    (repo / "hosts" / "gus" / "myapp.env").write_text(f"API_TOKEN={value}\n")
    commit_all(repo, "a host and its env file")
    command = "`secretkit set secrets/gus.yaml '[\"<name>\"]' < hosts/gus/myapp.env`"
    migrate = _secretkit(repo, "migrate", "--dry-run")
    assert command in migrate.stdout + migrate.stderr, migrate.stdout + migrate.stderr
    check = _secretkit(repo, "check")
    assert command in check.stdout, check.stdout
    for shown in (migrate.stdout, migrate.stderr, check.stdout, check.stderr):
        assert "secrets/<host>.yaml" not in shown
        assert value not in shown


def test_migrate_for_one_host_leaves_out_files_only_other_hosts_read(
    tmp_git_repo: Path,
) -> None:
    """`migrate --host lambda` listed gustave's env files among its by-hand steps."""
    repo = tmp_git_repo
    for host in ("gus", "lam"):
        (repo / "hosts" / host).mkdir(parents=True)
        (repo / "hosts" / host / "default.nix").write_text(
            "{ ... }:\n{\n  systemd.services.app.serviceConfig.EnvironmentFile = ./app.env;\n}\n"
        )
        (repo / "hosts" / host / "app.env").write_text(f"API_TOKEN={fake.password(host)}\n")
    (repo / "docs").mkdir()
    (repo / "docs" / "notes.env").write_text(f"API_TOKEN={fake.password('docs')}\n")
    commit_all(repo, "two hosts, their env files, and one no host reads")
    shown = _secretkit(repo, "migrate", "--dry-run", "--host", "lam")
    text = shown.stdout + shown.stderr
    assert "hosts/lam/app.env: not a Nix file" in text, text
    assert "hosts/gus/app.env" not in text
    assert "docs/notes.env: not a Nix file" in text  # (no host's: every run says it)
    every = _secretkit(repo, "migrate", "--dry-run")
    assert "hosts/gus/app.env: not a Nix file" in every.stdout + every.stderr
