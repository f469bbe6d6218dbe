"""``secretkit demo``: the README's first command, on a copy of examples/homelab."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from secretkit.commands.demo import GENERATORS, PUBLIC, demo, example_source, fill
from secretkit.plan import migration
from tests.conftest import ROOT
from tests.support.nixfind import EXPECTED_ACCESS


def test_every_placeholder_of_the_example_has_a_generator() -> None:
    names: set[str] = set()
    for file in example_source().rglob("*.nix"):
        values: dict[str, str] = {}
        fill(file.read_bytes(), values)
        names |= set(values)
    assert names == set(GENERATORS)
    assert PUBLIC <= names


def test_demo_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOPS_AGE_KEY_FILE", raising=False)
    seen: list[tuple[str | None, list[str]]] = []
    real_prepare = migration.prepare

    def prepare(repo: Path, **options: Any) -> migration.Prepared:
        # the admin key comes in as identities, not through the environment
        identities = options["identities"]
        seen.append((os.environ.get("SOPS_AGE_KEY_FILE"), list(identities.recipients)))
        return real_prepare(repo, **options)

    monkeypatch.setattr(migration, "prepare", prepare)
    result = demo(tmp_path / "d", keep=True)
    admin = (tmp_path / "d" / "keys" / "admin.agekey").read_text().split("public key: ")[1]
    assert seen == [(None, seen[0][1])] and admin.split()[0] in seen[0][1]
    assert "SOPS_AGE_KEY_FILE" not in os.environ
    assert result.kept and result.directory.is_dir()
    assert sorted(result.hosts) == sorted(EXPECTED_ACCESS)
    assert result.findings_before >= len(result.table) == 14
    assert result.findings_after == 0
    assert result.leaked == []
    assert result.refused == []
    assert {h: set(v) for h, v in result.host_access.items()} == EXPECTED_ACCESS
    # what migrate says to do before deploying is done: git sees the new files (the Nix
    # edits stay unstaged, for `git diff`)
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=result.directory, capture_output=True, text=True
    ).stdout.splitlines()
    assert "A  .sops.yaml" in status and "A  secrets/observer.yaml" in status
    assert not [line for line in status if line.startswith("??")]
    assert any(line.startswith(" M ") for line in status)
    for secret in result.secrets:
        value = secret.reveal()
        assert value not in result.diff
        assert all(value not in cell for row in result.table for cell in row)


def test_demo_cli_prints_the_story_and_no_value(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "secretkit", "demo", "--dir", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "example homelab with fake secrets: 8 hosts" in out
    assert "prometheus/syncthing/credentials  observer" in out
    assert "observer can decrypt: " in out
    assert out.rstrip().splitlines()[-2] == "scan: clean"
    assert f"repository: {tmp_path / 'd' / 'homelab'}" in out
    repo = tmp_path / "d" / "homelab"
    from secretkit.sops import operations
    from secretkit.sops.identities import load_identities

    identities = load_identities({"SOPS_AGE_KEY_FILE": str(tmp_path / "d/keys/admin.agekey")})
    for host in EXPECTED_ACCESS:
        plain = operations.decrypt_bytes(
            (repo / f"secrets/{host}.yaml").read_bytes(), "yaml", identities
        )
        for _, value in plain.leaves():
            assert isinstance(value, str) and value not in out + proc.stderr


def test_temporary_directory_is_removed_unless_kept(tmp_path: Path) -> None:
    import tempfile

    env = dict(os.environ, TMPDIR=str(tmp_path))
    tempfile.tempdir = None
    proc = subprocess.run(
        [sys.executable, "-m", "secretkit", "demo"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "repository:" not in proc.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_demo_from_a_non_editable_install(tmp_path: Path) -> None:
    """The README's `python3 -m pip install . && secretkit demo`, in a fresh venv.

    Runs by default (a few seconds), so CI never skips it: the dependencies come from
    the interpreter running the tests; only the build backend (setuptools, as
    pyproject.toml pins it) comes from the package index or pip's cache."""
    import site
    import sysconfig

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # the dependencies come from the interpreter running the tests (no network needed
    # for them); secretkit itself is built from the checkout and installed for real
    purelib = subprocess.run(
        [str(venv / "bin/python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    parents = [*site.getsitepackages(), sysconfig.get_path("purelib")]
    (Path(purelib) / "_test_deps.pth").write_text("\n".join(dict.fromkeys(parents)) + "\n")
    pip = subprocess.run(
        [str(venv / "bin/python"), "-m", "pip", "install", "-q", "--no-deps", str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert pip.returncode == 0, pip.stderr
    where = subprocess.run(
        [str(venv / "bin/python"), "-c", "import secretkit; print(secretkit.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    ).stdout
    assert where.startswith(purelib), where
    work = tmp_path / "elsewhere"
    work.mkdir()
    proc = subprocess.run(
        [str(venv / "bin/secretkit"), "demo"],
        capture_output=True,
        text=True,
        cwd=work,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "scan: clean" in proc.stdout


def test_committed_demo_output_matches_the_example() -> None:
    """The top-level .sops.yaml and secrets/ are the demo's output under the committed
    test-only key (examples/make_demo_output.py): each file opens with that key and
    holds exactly what its host's configuration uses, for the admin and that host."""
    from secretkit.keys import sops_yaml
    from secretkit.keys.ssh_to_age import ssh_pubkey_to_age
    from secretkit.sops import operations
    from secretkit.sops.identities import load_identities

    keys = ROOT / "examples/homelab/keys"
    identities = load_identities({"SOPS_AGE_KEY_FILE": str(keys / "admin.agekey")})
    model = sops_yaml.read_keys(ROOT)
    for host, expected in EXPECTED_ACCESS.items():
        data = (ROOT / "secrets" / f"{host}.yaml").read_bytes()
        plain = operations.decrypt_bytes(data, "yaml", identities)
        assert {"/".join(map(str, k)) for k, _ in plain.leaves()} == expected
        line = (keys / "hosts" / f"{host}.pub").read_text()
        assert model.hosts[host] == ssh_pubkey_to_age(line)
        recipients = operations.recipients_of(operations.load(data, "yaml"))
        assert sorted(recipients[0]) == sorted([model.hosts[host], *model.admins.values()])
