"""`hosts remove` killed after every journaled write: every file still opens with the
admin key at each kill point, and the next run rolls back and finishes the removal."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.commands.rotate_support import Lab, make_template_lab, run_subprocess

EXTRA = 2
HOST_FILES = (
    "secrets/observer.yaml",
    "secrets/shared.yaml",
    *(f"secrets/observer/extra{i:03}.yaml" for i in range(EXTRA)),
)
WRITES = 1 + len(HOST_FILES)
# the journaled writes in order (the host's files as paths sort), one test id each
WRITE_ORDER = (".sops.yaml", *sorted(HOST_FILES, key=Path))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return make_template_lab(tmp_path_factory.mktemp("template"), extra_files=EXTRA)


@pytest.mark.parametrize(
    "kill_after", range(1, WRITES + 1), ids=lambda n: f"{n}-{WRITE_ORDER[n - 1]}"
)
def test_kill_at_every_write_then_rerun(template: Lab, tmp_path: Path, kill_after: int) -> None:
    root = tmp_path / "repo"
    shutil.copytree(template.root, root, symlinks=True)
    lab = Lab(root, template.admin, template.hosts, template.keyfile, dict(template.values))
    gone = lab.hosts["observer"]
    before = lab.files()

    killed = run_subprocess(lab, "hosts", "remove", "observer", kill_after=kill_after)
    assert killed.returncode == 137, killed.stderr.decode()
    for rel in lab.values:
        assert lab.plaintext(rel, lab.admin) == lab.values[rel], (kill_after, rel)
    rewritten = {rel for rel in HOST_FILES if (lab.root / rel).read_bytes() != before[rel]}
    assert rewritten == set(WRITE_ORDER[1:kill_after])

    again = run_subprocess(lab, "hosts", "remove", "observer")
    assert again.returncode == 0, again.stderr.decode()
    assert again.stdout.decode().startswith("removed host observer\n")
    assert not (lab.root / ".git" / "secretkit-journal").exists()
    text = (lab.root / ".sops.yaml").read_text()
    assert "host_observer" not in text and gone.public not in text
    for rel in HOST_FILES:
        assert not lab.opens(rel, gone), rel
        assert lab.plaintext(rel, lab.admin) == lab.values[rel]
    assert lab.opens("secrets/shared.yaml", lab.hosts["immich"])
    for rel in ("secrets/immich.yaml", "secrets/jellyfin.yaml"):
        assert (lab.root / rel).read_bytes() == before[rel]
