"""`secretkit check --source-only`: what `nix flake check` can run.

The source of a flake check is a read-only copy of the tracked files: no `.git`, no
private key, no network.  The passing repository of test_cmd_check is copied that
way; the points that need history or a key are reported as not run (never as
passed), the others still catch what they catch.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.commands.test_cmd_check import Repo, repo  # noqa: F401  (fixture)
from tests.conftest import ROOT
from tests.support import fake

SOURCE_POINTS = {
    "plaintext-tree",
    "sops-recipients",
    "nix-secret-refs",
    "host-readable",
    "service-readable",
}
SOURCE_POINTS |= {"sops-nix-module", "decrypted-copy"}
NOT_RUN = {"plaintext-history", "sops-mac"}


def read_only_copy(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".git"))
    for directory, dirs, files in os.walk(dest):
        for name in files + dirs:
            path = Path(directory, name)
            path.chmod(stat.S_IMODE(path.stat().st_mode) & ~0o222)
    dest.chmod(0o555)
    return dest


@pytest.fixture
def source(repo: Repo, tmp_path: Path) -> Iterator[Path]:  # noqa: F811
    copy = read_only_copy(repo.root, tmp_path / "store" / "abc-source")
    yield copy
    for directory, dirs, _files in os.walk(copy):
        for name in [".", *dirs]:
            Path(directory, name).chmod(0o755)


def check_source(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """No key in the environment, started elsewhere: `secretkit -C SRC check --source-only`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "secretkit", "-C", str(path), "check", "--source-only", *args],
        cwd=path.parent,
        capture_output=True,
        text=True,
        env=env,
    )


def test_a_clean_source_tree_passes_what_it_can_and_names_what_it_did_not_run(
    source: Path,
) -> None:
    proc = check_source(source, "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is True
    assert {c["id"] for c in report["checks"]} == SOURCE_POINTS
    assert {n["id"] for n in report["not_run"]} == NOT_RUN
    assert all(n["reason"].startswith("needs ") for n in report["not_run"])

    text = check_source(source)
    assert text.returncode == 0
    assert "safe to publish" not in text.stdout  # no publish verdict from a partial run
    assert "not run plaintext-history: needs the git history" in text.stdout
    assert "not run sops-mac: needs a private key" in text.stdout
    assert text.stdout.splitlines()[-1].startswith("every point a source tree allows passed")


def test_the_full_check_still_needs_a_repository(source: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "secretkit", "-C", str(source), "check"],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert proc.returncode == 3
    assert "not inside a git repository" in proc.stderr


def test_a_plaintext_secret_in_the_source_fails(repo: Repo, tmp_path: Path) -> None:  # noqa: F811
    borg = f'{{ services.borgbackup.jobs.h.encryption.passphrase = "{fake.passphrase("src")}"; }}\n'
    (repo.root / "hosts" / "observer" / "borg.nix").write_text(borg)
    copy = read_only_copy(repo.root, tmp_path / "copy")
    proc = check_source(copy, "--format", "json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    failed = {c["id"] for c in report["checks"] if not c["ok"]}
    assert failed == {"plaintext-tree"}
    text = check_source(copy).stdout
    assert "NOT safe to publish: 1 of 7 points fail (1 problem(s) in 1 group(s))" in text
    assert fake.passphrase("src") not in text


def test_a_decrypted_copy_and_a_missing_key_fail(repo: Repo, tmp_path: Path) -> None:  # noqa: F811
    (repo.root / "secrets" / "observer.dec.yaml").write_text("alertmanager: {}\n")
    module = repo.root / "hosts" / "observer" / "default.nix"
    module.write_text(module.read_text().replace("pushover/token", "pushover/tokn"))
    copy = read_only_copy(repo.root, tmp_path / "copy")
    report = json.loads(check_source(copy, "--format", "json").stdout)
    failed = {c["id"] for c in report["checks"] if not c["ok"]}
    assert failed == {"decrypted-copy", "nix-secret-refs"}


def test_in_a_clone_the_files_are_gits_and_the_key_points_still_do_not_run(
    repo: Repo,  # noqa: F811
) -> None:
    """Run in a clone, --source-only judges what git would publish (an ignored local
    decrypted copy is not), and still leaves history and MACs to the full check."""
    (repo.root / ".gitignore").write_text("*.dec.yaml\n")
    (repo.root / "secrets" / "observer.dec.yaml").write_text("alertmanager: {}\n")
    proc = check_source(repo.root / "hosts", "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert {c["id"] for c in report["checks"]} == SOURCE_POINTS
    assert {n["id"] for n in report["not_run"]} == NOT_RUN
    (repo.root / ".gitignore").unlink()
    failed = json.loads(check_source(repo.root, "--format", "json").stdout)["checks"]
    assert {c["id"] for c in failed if not c["ok"]} == {"decrypted-copy"}


def test_an_allowlist_fix_in_a_plain_directory_runs_as_printed(tmp_path: Path) -> None:
    """Outside git the allowlist line is the whole fix: a `&& git add` after it fails."""
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "app.json").write_text(json.dumps({"token": fake.github_token("plain-dir")}) + "\n")
    first = check_source(plain)
    assert first.returncode == 1, first.stdout + first.stderr
    fix = next(line for line in first.stdout.splitlines() if "allowlist it: " in line)
    command = fix.split("allowlist it: ", 1)[1]
    assert "git" not in command, command
    subprocess.run(command, shell=True, cwd=plain, check=True)
    again = check_source(plain)
    assert again.returncode == 0, again.stdout


def test_a_value_added_in_clear_to_a_sops_file_fails_without_a_key(
    repo: Repo,  # noqa: F811
    tmp_path: Path,
) -> None:
    """A value typed into an encrypted file with an editor, no sops: the full check and
    the hook said so, --source-only passed it (sops-mac, which needs a key, was not
    run).  What sops-mac verifies without a key runs there; its fix works as printed in
    the clone."""
    sops_file = repo.root / "secrets" / "observer.yaml"
    good = sops_file.read_text()
    sops_file.write_text(good.replace("sops:\n", f"extra: {fake.password('clear')}\nsops:\n", 1))
    copy = read_only_copy(repo.root, tmp_path / "copy")
    report = json.loads(check_source(copy, "--format", "json").stdout)
    (failed,) = [c for c in report["checks"] if not c["ok"]]
    assert failed["id"] == "sops-mac"
    assert failed["message"] == (
        "secrets/observer.yaml values its sops rule says are encrypted are in clear: extra"
    )
    assert {n["id"] for n in report["not_run"]} == NOT_RUN  # (the MACs still need a key)
    assert fake.password("clear") not in json.dumps(report)
    in_clone = json.loads(check_source(repo.root, "--format", "json").stdout)
    (failed,) = [c for c in in_clone["checks"] if not c["ok"]]
    command = failed["fix"].split("(", 1)[1].split(")", 1)[0]
    assert command == "git checkout HEAD -- secrets/observer.yaml"
    subprocess.run(command.split(), cwd=repo.root, check=True)
    assert sops_file.read_text() == good
    assert check_source(repo.root).returncode == 0
