"""A writing command killed half-way (SECRETKIT_TEST_KILL_AFTER_WRITES, see
secretkit/atomic.py): check and the hook fail on its journal instead of judging files
that are about to be rolled back, and the command that rolls it back says so
(helper-128: a killed `rotate host` passed check, and a later `set` silently put the
old host key back)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.commands.rotate_support import Lab, make_template_lab, run_subprocess
from tests.conftest import commit_all, git


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return make_template_lab(tmp_path_factory.mktemp("template"), extra_files=0)


@pytest.fixture
def killed(template: Lab, tmp_path: Path) -> Lab:
    root = tmp_path / "repo"
    shutil.copytree(template.root, root, symlinks=True)
    lab = Lab(root, template.admin, template.hosts, template.keyfile, template.values)
    proc = run_subprocess(lab, "rotate", "data-keys", kill_after=1)
    assert proc.returncode == 137, proc.stderr
    return lab


def test_check_cannot_verify_while_an_interrupted_run_is_pending(killed: Lab) -> None:
    proc = run_subprocess(killed, "check", "--source-only")
    out = proc.stdout.decode()
    assert proc.returncode == 1, out
    assert "cannot verify: `secretkit rotate data-keys …` was interrupted" in out
    assert "fix: run `secretkit rotate data-keys …` again as you ran it" in out
    # (no other point judges the half-written files: their fixes would undo the run)
    assert out.count("fix:") == 1 and "an interrupted secretkit run must be finished" in out


def test_the_hook_blocks_while_an_interrupted_run_is_pending(killed: Lab) -> None:
    (killed.root / "notes.txt").write_text("nothing secret\n")
    git(killed.root, "add", "notes.txt")
    proc = run_subprocess(killed, "hook")
    assert proc.returncode == 1
    assert "`secretkit rotate data-keys …` was interrupted" in proc.stdout.decode()


def test_the_run_that_rolls_it_back_says_so_and_check_passes_after(killed: Lab) -> None:
    again = run_subprocess(killed, "rotate", "data-keys")
    assert again.returncode == 0, again.stderr
    assert (
        "note: `secretkit rotate data-keys …` had been interrupted; its changes were rolled "
        "back before this run" in again.stderr.decode()
    )
    assert "this run did its job again" in again.stderr.decode()  # (helper-129)
    commit_all(killed.root, "rotated")
    proc = run_subprocess(killed, "check", "--source-only")
    assert "was interrupted" not in proc.stdout.decode()
