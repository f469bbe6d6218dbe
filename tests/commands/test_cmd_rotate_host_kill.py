"""`rotate host` killed after every journaled write (SECRETKIT_TEST_KILL_AFTER_WRITES=N,
os._exit like SIGKILL, see secretkit/atomic.py): at every kill point each file still
opens with the admin key (and with the old or the new host key); the next run rolls
the half-done change back and does the whole job again."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.commands.rotate_support import (
    ROOT,
    Lab,
    age_key,
    make_template_lab,
    run_subprocess,
)
from tests.support import fake

EXTRA = 3
HOST_FILES = (
    "secrets/observer.yaml",
    "secrets/shared.yaml",
    *(f"secrets/observer/extra{i:03}.yaml" for i in range(EXTRA)),
)
WRITES = 1 + len(HOST_FILES)  # .sops.yaml, then every file of the host
# the journaled writes in order (the host's files as paths sort), one test id each
WRITE_ORDER = (".sops.yaml", *sorted(HOST_FILES, key=Path))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return make_template_lab(tmp_path_factory.mktemp("template"), extra_files=EXTRA)


def _copy(template: Lab, tmp_path: Path) -> Lab:
    root = tmp_path / "repo"
    shutil.copytree(template.root, root, symlinks=True)
    return Lab(root, template.admin, template.hosts, template.keyfile, dict(template.values))


@pytest.mark.parametrize(
    "kill_after", range(1, WRITES + 1), ids=lambda n: f"{n}-{WRITE_ORDER[n - 1]}"
)
def test_kill_at_every_write_then_rerun(template: Lab, tmp_path: Path, kill_after: int) -> None:
    lab = _copy(template, tmp_path)
    old = lab.hosts["observer"]
    new = age_key()
    before = lab.files()
    config_before = (lab.root / ".sops.yaml").read_bytes()

    killed = run_subprocess(lab, "rotate", "host", "observer", "--age", new.public,
                            kill_after=kill_after)  # fmt: skip
    assert killed.returncode == 137, killed.stderr.decode()
    journal = lab.root / ".git" / "secretkit-journal"
    assert journal.is_dir()
    config_now = (lab.root / ".sops.yaml").read_bytes()
    assert config_now == config_before or new.public.encode() in config_now
    rewritten = [rel for rel in HOST_FILES if (lab.root / rel).read_bytes() != before[rel]]
    assert len(rewritten) == kill_after - 1  # one write per journaled step
    assert set(rewritten) == set(WRITE_ORDER[1:kill_after])
    for rel in lab.values:
        assert lab.opens(rel, lab.admin), (kill_after, rel)
        assert lab.plaintext(rel, lab.admin) == lab.values[rel]
    for rel in HOST_FILES:
        assert lab.opens(rel, old) != lab.opens(rel, new), (kill_after, rel)

    again = run_subprocess(lab, "rotate", "host", "observer", "--age", new.public)
    assert again.returncode == 0, again.stderr.decode()
    assert not journal.exists()
    assert f"&host_observer {new.public}" in (lab.root / ".sops.yaml").read_text()
    for rel in HOST_FILES:
        assert not lab.opens(rel, old), rel
        assert lab.plaintext(rel, new) == lab.values[rel]
        assert lab.plaintext(rel, lab.admin) == lab.values[rel]
    for rel in ("secrets/immich.yaml", "secrets/jellyfin.yaml"):
        assert (lab.root / rel).read_bytes() == before[rel]


def test_another_writing_command_rolls_the_interrupted_run_back(
    template: Lab, tmp_path: Path
) -> None:
    lab = _copy(template, tmp_path)
    before = lab.files()
    config_before = (lab.root / ".sops.yaml").read_bytes()
    killed = run_subprocess(lab, "rotate", "host", "observer", "--age", age_key().public,
                            kill_after=3)  # fmt: skip
    assert killed.returncode == 137
    result = run_subprocess(lab, "updatekeys")
    assert result.returncode == 0, result.stderr.decode()
    assert lab.files() == before
    assert (lab.root / ".sops.yaml").read_bytes() == config_before
    assert "0 file(s) updated" in result.stderr.decode()


@pytest.mark.parametrize(
    "command",
    [
        ("updatekeys", "FILE"),
        ("rotate", "data-keys", "FILE"),
        ("rotate", "data-keys"),
    ],
)
def test_file_commands_roll_the_interrupted_run_back_before_reading(
    template: Lab, tmp_path: Path, command: tuple[str, ...]
) -> None:
    # Killed after .sops.yaml and one file of the host were rewritten for the new key.
    # Reading that half-done state, then letting our own Transaction roll it back, left
    # the file wrapped for a key .sops.yaml no longer names.
    lab = _copy(template, tmp_path)
    old, new = lab.hosts["observer"], age_key()
    before = lab.files()
    config_before = (lab.root / ".sops.yaml").read_bytes()
    killed = run_subprocess(lab, "rotate", "host", "observer", "--age", new.public,
                            kill_after=2)  # fmt: skip
    assert killed.returncode == 137
    (half_done,) = [rel for rel in HOST_FILES if lab.opens(rel, new)]
    command = tuple(half_done if arg == "FILE" else arg for arg in command)

    result = run_subprocess(lab, *command)

    assert result.returncode == 0, result.stderr.decode()
    assert not (lab.root / ".git" / "secretkit-journal").exists()
    assert (lab.root / ".sops.yaml").read_bytes() == config_before
    assert lab.opens(half_done, old)
    assert not lab.opens(half_done, new)
    if command[0] == "updatekeys":
        assert lab.files() == before
    for rel in lab.values:
        assert lab.plaintext(rel, lab.admin) == lab.values[rel]


def test_set_after_an_interrupted_run_is_not_undone_later(template: Lab, tmp_path: Path) -> None:
    lab = _copy(template, tmp_path)
    killed = run_subprocess(lab, "rotate", "host", "observer", "--age", age_key().public,
                            kill_after=len(HOST_FILES))  # fmt: skip
    assert killed.returncode == 137
    value = fake.password("set-after-kill")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    env.update(SOPS_AGE_KEY_FILE=str(lab.keyfile), PYTHONPATH=str(ROOT))
    env.pop("SECRETKIT_TEST_KILL_AFTER_WRITES", None)
    set_run = subprocess.run(
        [sys.executable, "-m", "secretkit", "-C", str(lab.root), "set",
         "secrets/observer.yaml", '["added"]'],
        input=value.encode(), env=env, capture_output=True, check=False, timeout=120,
    )  # fmt: skip
    assert set_run.returncode == 0, set_run.stderr.decode()
    assert run_subprocess(lab, "updatekeys").returncode == 0  # would roll the set back
    assert lab.plaintext("secrets/observer.yaml", lab.admin)[("added",)] == value
    assert lab.opens("secrets/observer.yaml", lab.hosts["observer"])
