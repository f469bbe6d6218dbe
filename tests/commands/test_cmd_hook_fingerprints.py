"""The hook computes a fingerprint only where its report prints one or the allowlist
needs it, each distinct value once, and takes it from the clone's cache the next time
(``<git dir>/secretkit/fingerprints``): the same report, without the scrypt."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from secretkit.commands.hook import render, run_hook
from secretkit.scan import allowlist
from tests.conftest import ROOT, commit_all, git
from tests.sops.keys_support import age_key
from tests.support import fake


def _hook(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOPS_", "SECRETKIT_"))}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "secretkit", "hook", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )


def _entries(repo: Path) -> list[str]:
    file = repo / ".git" / "secretkit" / allowlist.CACHE_NAME
    return file.read_text().splitlines()[3:] if file.exists() else []


@pytest.fixture
def repo(tmp_git_repo: Path) -> Path:
    (tmp_git_repo / "flake.nix").write_text("{ outputs = { ... }: { }; }\n")
    commit_all(tmp_git_repo, "base")
    return tmp_git_repo


def _settings(*values: str) -> str:
    """A JSON file (no comments there: only the allowlist line, with the fingerprint,
    silences a finding in it)."""
    apps = ",\n".join(f'  "app{i}": {{ "password": "{v}" }}' for i, v in enumerate(values))
    return "{\n" + apps + "\n}\n"


def _module(*values: str) -> str:
    lines = "".join(f'  services.app{i}.settings.password = "{v}";\n' for i, v in enumerate(values))
    return "{ ... }:\n{\n" + lines + "}\n"


def test_a_finding_the_allow_comment_silences_costs_no_fingerprint(repo: Path) -> None:
    """Its fix offers the comment; no scrypt runs and nothing is cached."""
    (repo / "a.nix").write_text(_module(fake.password("comment")))
    git(repo, "add", ".")
    allowlist.fingerprint.cache_clear()
    report = run_hook(repo, ["a.nix"])
    lines = render(report)
    assert len(report.findings) == 1 and report.blocked
    assert lines[2].endswith("if it is not a secret, append `# secretkit: allow` to the line")
    assert not any("sk2:" in line for line in lines)
    assert allowlist.fingerprint.cache_info().misses == 0
    assert _entries(repo) == []
    proc = _hook(repo, "--", "a.nix")
    assert proc.returncode == 1 and proc.stdout.splitlines() == lines


def test_the_second_run_prints_the_same_report_from_the_cache(repo: Path) -> None:
    same = fake.password("twice")
    (repo / "a.json").write_text(_settings(same, fake.password("other"), same))
    git(repo, "add", ".")
    first = _hook(repo, "--", "a.json")
    assert first.returncode == 1 and first.stdout.count("echo sk2:") == 3
    printed = {
        line.split("echo ")[1].split()[0] for line in first.stdout.splitlines() if "echo" in line
    }
    assert len(printed) == 2  # the value written twice has one fingerprint
    assert sorted(e.split()[1] for e in _entries(repo)) == sorted(printed)
    second = _hook(repo, "--", "a.json")
    assert (second.returncode, second.stdout, second.stderr) == (
        first.returncode,
        first.stdout,
        first.stderr,
    )
    # in this process: the report's fingerprints come from the file, no scrypt runs
    allowlist.fingerprint.cache_clear()
    assert render(run_hook(repo, ["a.json"])) == first.stdout.splitlines()
    assert allowlist.fingerprint.cache_info().misses == 0


def test_several_new_values_are_each_fingerprinted_once(repo: Path) -> None:
    values = [fake.password(f"many{i}") for i in range(5)]
    (repo / "a.json").write_text(_settings(*values, values[0], values[3]))
    git(repo, "add", ".")
    allowlist.fingerprint.cache_clear()
    report = run_hook(repo, ["a.json"])
    assert allowlist.fingerprint.cache_info().misses == 5  # (two threads, each value once)
    key = report.findings[0].keyring.key  # type: ignore[union-attr]
    expected = [allowlist.fingerprint(key, v) for v in [*values, values[0], values[3]]]
    assert [f.fingerprint for f in report.findings] == expected
    shown = [line.split("echo ")[1].split()[0] for line in render(report) if "echo sk2:" in line]
    assert shown == expected
    assert sorted(e.split()[1] for e in _entries(repo)) == sorted(set(expected))


def test_a_decrypted_secrets_file_costs_no_fingerprint(repo: Path) -> None:
    (repo / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: secrets/[^/]+\\.yaml$\n    age: {age_key().public}\n"
    )
    commit_all(repo, "rules")
    (repo / "secrets").mkdir()
    (repo / "secrets/a.yaml").write_text(
        f"db_password: {fake.password('plain1')}\napi: {fake.github_token('plain2')}\n"
    )
    (repo / "a.json").write_text(_settings(fake.password("json")))
    git(repo, "add", ".")
    allowlist.fingerprint.cache_clear()
    report = run_hook(repo, ["secrets/a.yaml", "a.json"])
    lines = render(report)
    assert [p.path for p in report.sops_problems] == ["secrets/a.yaml"]
    assert len(report.findings) == 3
    assert sum("echo sk2:" in line for line in lines) == 1  # the JSON finding's fix only
    assert allowlist.fingerprint.cache_info().misses == 1
    assert len(_entries(repo)) == 1


def test_an_allowlisted_value_is_remembered_without_a_finding(repo: Path) -> None:
    value = fake.password("allowed")
    (repo / "a.json").write_text(_settings(value))
    git(repo, "add", ".")
    blocked = _hook(repo, "--", "a.json")
    fp = next(
        line.split("echo ")[1].split()[0] for line in blocked.stdout.splitlines() if "echo" in line
    )
    (repo / ".git" / "secretkit" / allowlist.CACHE_NAME).unlink()
    (repo / ".secretkit-allow").write_text(f"{fp}\n")
    git(repo, "add", ".")
    passed = _hook(repo, "--", "a.json", ".secretkit-allow")
    assert (passed.returncode, passed.stdout) == (0, "")
    assert [e.split()[1] for e in _entries(repo)] == [fp]  # saved by the scan's own check
    allowlist.fingerprint.cache_clear()
    assert run_hook(repo, ["a.json"]).findings == []
    assert allowlist.fingerprint.cache_info().misses == 0


def test_the_whole_report_and_the_exit_code_survive_the_quick_exit(repo: Path) -> None:
    """The program ends without the interpreter's teardown: the report arrives whole
    (larger than a pipe's buffer) and its exit code is kept."""
    (repo / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: secrets/[^/]+\\.yaml$\n    age: {age_key().public}\n"
    )
    commit_all(repo, "rules")
    (repo / "secrets").mkdir()
    values = "".join(f"k{i}_password: {fake.password(f'big{i}')}\n" for i in range(800))
    (repo / "secrets/big.yaml").write_text(values)
    git(repo, "add", ".")
    proc = _hook(repo, "--", "secrets/big.yaml")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert len(proc.stdout) > 65536  # more than a pipe holds
    assert lines[0] == "secretkit: commit blocked (801 problems)"
    assert lines[-1] == "(bypass once, if you are sure: git commit --no-verify)"
    assert (
        sum(line == "  fix: this file must be encrypted: see its fix below" for line in lines)
        == 800
    )
    assert _entries(repo) == []  # no fingerprint for a file whose one fix is to encrypt it


EXIT_HANDLER = """\
import atexit, sys
atexit.register(lambda: sys.stderr.write("handler ran\\n"))
sys.argv = ["secretkit", "hook", "--", "a.json"]
from secretkit.entry import main
main()
"""


def test_an_exit_handler_still_runs(repo: Path) -> None:
    """With an exit handler registered the program exits the usual way (no quick exit)."""
    (repo / "a.json").write_text(_settings(fake.password("handler")))
    git(repo, "add", ".")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOPS_", "SECRETKIT_"))}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-c", EXIT_HANDLER], cwd=repo, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 1 and "echo sk2:" in proc.stdout
    assert proc.stderr.endswith("handler ran\n")
