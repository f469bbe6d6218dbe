"""Writing commands run at the same time, as real processes with random start offsets:
two migrates, two `rotate host` of different hosts, `edit` while `rotate host` runs.
After every run each value is recoverable, `.sops.yaml` and every file's recipients
agree, and no process reports success over lost data (the repository lock, see
secretkit/repolock.py).  RUNS (≥ 20) runs of each; the seed is in the failure text."""

from __future__ import annotations

import os
import random
import shutil
import time
from pathlib import Path

import pytest

from secretkit.errors import SecretkitError
from secretkit.keys import sops_yaml
from secretkit.keys.ssh_to_age import ssh_private_key_to_age
from secretkit.sops import operations
from secretkit.sops.identities import Identities, load_identities
from tests.support.smalllab import HOSTS, SmallLab, copy_lab, pristine_small_lab

RUNS = int(os.environ.get("SECRETKIT_STRESS_RUNS", "20"))
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> SmallLab:
    return pristine_small_lab(tmp_path_factory.mktemp("pristine"))


@pytest.fixture(scope="module")
def migrated(pristine: SmallLab, tmp_path_factory: pytest.TempPathFactory) -> SmallLab:
    lab = copy_lab(pristine, tmp_path_factory.mktemp("migrated") / "repo")
    done = lab.run("migrate", "--yes")
    assert done.returncode == 0, done.stderr
    return lab


def _admin(lab: SmallLab) -> Identities:
    return load_identities({"SOPS_AGE_KEY_FILE": str(lab.admin_key), "HOME": "/nonexistent"})


def _host_identity(secret: str) -> Identities:
    return load_identities({"SOPS_AGE_KEY": secret, "HOME": "/nonexistent"})


def _plain(lab: SmallLab, host: str, who: Identities) -> dict[str, str] | None:
    data = (lab.repo / "secrets" / f"{host}.yaml").read_bytes()
    try:
        plain = operations.decrypt_bytes(data, "yaml", who)
    except SecretkitError:
        return None
    return {"/".join(map(str, keys)): str(value) for keys, value in plain.leaves()}


def _recipients(lab: SmallLab, host: str) -> set[str]:
    data = (lab.repo / "secrets" / f"{host}.yaml").read_bytes()
    sops = operations.load(data, "yaml", source=host)
    return {e.fields["recipient"] for e in sops.metadata.all_keys() if e.kind == "age"}


def _agree(lab: SmallLab, seed: int) -> None:
    """`.sops.yaml` names, for each host file, exactly the recipients the file has."""
    keys = sops_yaml.read_keys(lab.repo)
    for host in HOSTS:
        wanted = {*keys.admins.values(), keys.hosts[host]}
        assert _recipients(lab, host) == wanted, (seed, host)


def _start_both(first: list[str], second: list[str], lab: SmallLab, rng: random.Random,
                **extra: str) -> tuple[tuple[int, bytes], tuple[int, bytes]]:  # fmt: skip
    a = lab.popen(*first, **extra)
    time.sleep(rng.uniform(0, 0.3))
    b = lab.popen(*second, **extra)
    out = []
    for proc in (a, b):
        _, err = proc.communicate(timeout=180)
        out.append((proc.returncode, err))
    return out[0], out[1]


def test_two_migrates_at_once_lose_nothing(pristine: SmallLab, tmp_path: Path) -> None:
    rng = random.Random()
    for run in range(RUNS):
        seed = rng.randrange(1 << 30)
        lab = copy_lab(pristine, tmp_path / f"run{run}")
        (code_a, err_a), (code_b, err_b) = _start_both(
            ["migrate", "--yes"], ["migrate", "--yes"], lab, random.Random(seed)
        )
        assert (code_a, code_b) == (0, 0), (seed, err_a, err_b)
        admin = _admin(lab)
        for host in HOSTS:
            plain = _plain(lab, host, admin)
            assert plain is not None, (seed, host)
            assert sorted(plain.values()) == sorted(
                v for k, v in lab.values.items() if k.startswith(f"{host}/")
            ), (seed, host)
            nix = (lab.repo / "hosts" / host / "default.nix").read_text()
            assert not any(v in nix for v in lab.values.values()), (seed, host)
        _agree(lab, seed)
        shutil.rmtree(lab.repo)


def test_two_host_rotations_at_once_both_land(migrated: SmallLab, tmp_path: Path) -> None:
    from pyrage import x25519

    rng = random.Random()
    admin = _admin(migrated)
    for run in range(RUNS):
        seed = rng.randrange(1 << 30)
        lab = copy_lab(migrated, tmp_path / f"run{run}")
        new = {host: x25519.Identity.generate() for host in HOSTS}
        (code_a, err_a), (code_b, err_b) = _start_both(
            ["rotate", "host", "alpha", "--age", str(new["alpha"].to_public())],
            ["rotate", "host", "beta", "--age", str(new["beta"].to_public())],
            lab,
            random.Random(seed),
        )
        assert (code_a, code_b) == (0, 0), (seed, err_a, err_b)
        keys = sops_yaml.read_keys(lab.repo)
        for host in HOSTS:
            assert keys.hosts[host] == str(new[host].to_public()), (seed, host)
            old = ssh_private_key_to_age(lab.host_keys[host].read_bytes()).reveal()
            assert _plain(lab, host, _host_identity(old)) is None, (seed, host)
            assert _plain(lab, host, _host_identity(str(new[host]))) == _plain(lab, host, admin)
        _agree(lab, seed)
        shutil.rmtree(lab.repo)


EDITOR = """#!/bin/sh
sleep "$EDIT_DELAY"
printf 'added_by_edit: "yes"\\n' >> "$1"
"""


def test_edit_during_a_rotation_never_undoes_it(migrated: SmallLab, tmp_path: Path) -> None:
    from pyrage import x25519

    editor = tmp_path / "editor.sh"
    editor.write_text(EDITOR)
    editor.chmod(0o755)
    rng = random.Random()
    admin = _admin(migrated)
    outcomes = {"saved": 0, "refused": 0}
    for run in range(RUNS):
        seed = rng.randrange(1 << 30)
        local = random.Random(seed)
        lab = copy_lab(migrated, tmp_path / f"run{run}")
        home = tmp_path / f"home{run}"
        new = x25519.Identity.generate()
        edit = lab.popen("edit", "secrets/alpha.yaml", EDITOR=str(editor),
                         EDIT_DELAY=f"{local.uniform(0, 1.2):.2f}", HOME=str(home))  # fmt: skip
        time.sleep(local.uniform(0, 0.8))
        rotate = lab.popen("rotate", "host", "alpha", "--age", str(new.to_public()))
        _, edit_err = edit.communicate(timeout=180)
        _, rotate_err = rotate.communicate(timeout=180)
        assert rotate.returncode == 0, (seed, rotate_err)
        assert sops_yaml.read_keys(lab.repo).hosts["alpha"] == str(new.to_public())
        plain = _plain(lab, "alpha", _host_identity(str(new)))
        assert plain is not None and plain == _plain(lab, "alpha", admin), seed
        _agree(lab, seed)
        if edit.returncode == 0:
            outcomes["saved"] += 1
            assert plain.get("added_by_edit") == "yes", (seed, edit_err)
        else:
            outcomes["refused"] += 1
            message = edit_err.decode()
            assert edit.returncode == 3, (seed, message)
            assert "changed while the editor was open; nothing was saved" in message, seed
            kept = Path(message.split("is kept in ", 1)[1].split(" ", 1)[0])
            assert kept.is_relative_to(lab.repo / ".git" / "secretkit" / "kept")
            assert kept.stat().st_mode & 0o777 == 0o600
            assert b'added_by_edit: "yes"' in kept.read_bytes()
            assert "added_by_edit" not in plain
        shutil.rmtree(lab.repo)
    assert sum(outcomes.values()) == RUNS
