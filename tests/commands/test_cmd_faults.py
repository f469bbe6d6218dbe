"""The system refuses a write in the middle of `migrate`: an immutable file (chattr +i),
a full disk (a tiny tmpfs).  One line, exit 3, and either a complete rollback or an
exact list of what could not be restored, which the next run finishes once fixed.
(Tests run as root: plain chmod would not stop root, chattr and a full tmpfs do.)"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from secretkit.atomic import STRAY_TMP, journal_dir_for
from tests.conftest import need, need_tool
from tests.support.smalllab import SmallLab, copy_lab, pristine_small_lab

pytestmark = pytest.mark.slow


def _root_only() -> None:
    need(os.geteuid() == 0, "needs root (chattr +i, mount -t tmpfs)")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> SmallLab:
    return pristine_small_lab(tmp_path_factory.mktemp("pristine"))


def _tree(repo: Path) -> dict[str, bytes]:
    return {
        p.relative_to(repo).as_posix(): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }


@pytest.fixture
def immutable() -> Iterator[list[Path]]:
    _root_only()
    need_tool("chattr")
    paths: list[Path] = []
    yield paths
    for path in paths:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def _chattr(flag: str, path: Path, registry: list[Path]) -> None:
    subprocess.run(["chattr", flag, str(path)], check=True)
    if flag == "+i":
        registry.append(path)


def test_immutable_file_mid_migrate_rolls_everything_back(
    pristine: SmallLab, tmp_path: Path, immutable: list[Path]
) -> None:
    lab = copy_lab(pristine, tmp_path / "repo")
    before = _tree(lab.repo)
    target = lab.repo / "hosts" / "beta" / "default.nix"
    _chattr("+i", target, immutable)
    result = lab.run("migrate", "--yes")
    err = result.stderr.decode()
    assert result.returncode == 3, err
    assert err.splitlines() == [
        "error: cannot write hosts/beta/default.nix: Operation not permitted; every change "
        "of this run was rolled back (hint: the file may be immutable (lsattr; chattr -i "
        "FILE) or not yours)"
    ]
    assert _tree(lab.repo) == before
    assert not journal_dir_for(lab.repo).exists()
    assert not [p for p in lab.repo.rglob("*") if STRAY_TMP.match(p.name)]
    _chattr("-i", target, immutable)
    assert lab.run("migrate", "--yes").returncode == 0


def test_a_file_that_cannot_be_restored_is_named_and_the_next_run_finishes(
    pristine: SmallLab, tmp_path: Path, immutable: list[Path]
) -> None:
    lab = copy_lab(pristine, tmp_path / "repo")
    before = _tree(lab.repo)
    # Killed (like SIGKILL) after 4 writes: both sops files, flake.nix, hosts/alpha.
    killed = lab.run("migrate", "--yes", SECRETKIT_TEST_KILL_AFTER_WRITES="4")
    assert killed.returncode == 137
    stuck = lab.repo / "hosts" / "alpha" / "default.nix"
    assert stuck.read_bytes() != before["hosts/alpha/default.nix"]
    _chattr("+i", stuck, immutable)
    result = lab.run("migrate", "--dry-run")
    err = result.stderr.decode()
    assert result.returncode == 3, err
    assert err.splitlines() == [
        "error: rollback incomplete: could not restore hosts/alpha/default.nix (Operation "
        "not permitted); 3 other file(s) were restored (hint: make those files writable "
        "(immutable? `chattr -i FILE`; full disk? free space) and run the command again: "
        f"it finishes the rollback from the journal in {journal_dir_for(lab.repo)})"
    ]
    now = _tree(lab.repo)
    assert {p for p in before if now.get(p) != before[p]} == {"hosts/alpha/default.nix"}
    assert not (lab.repo / "secrets").exists() or not any((lab.repo / "secrets").iterdir())
    again = lab.run("migrate", "--dry-run")
    assert again.returncode == 3  # still stuck: the same report, nothing else touched
    _chattr("-i", stuck, immutable)
    fixed = lab.run("migrate", "--dry-run")
    assert fixed.returncode == 0, fixed.stderr
    assert _tree(lab.repo) == before
    assert not journal_dir_for(lab.repo).exists()


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    _root_only()
    mount = tmp_path / "tiny"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True, check=False)  # fmt: skip
    need(proc.returncode == 0, f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_mid_migrate_is_one_line_and_exit_3(pristine: SmallLab, tiny_fs: Path) -> None:
    lab = copy_lab(pristine, tiny_fs / "repo")
    subprocess.run(["git", "gc", "-q", "--prune=now"], cwd=lab.repo, check=True)
    before = _tree(lab.repo)
    filler = tiny_fs / "filler"
    seen = set()
    # Room for nothing, for the journal's first backups, for part of the run, for all.
    for headroom in (0, 8, 16, 24, 32, 48, 64, 512):
        filler.unlink(missing_ok=True)
        free = shutil.disk_usage(tiny_fs).free
        filler.write_bytes(b"\0" * max(0, free - headroom * 1024))
        result = lab.run("migrate", "--yes")
        err = result.stderr.decode()
        if result.returncode == 0:
            seen.add("done")
            break
        assert result.returncode == 3, (headroom, err)
        (line,) = err.splitlines()
        assert "No space left on device" in line, line
        assert line.endswith("(hint: free some disk space and retry)") or (
            "rollback incomplete: could not restore" in line and "run the command again" in line
        ), line
        filler.unlink()
        if "rollback incomplete" in line:
            seen.add("report")
            assert lab.run("migrate", "--dry-run").returncode == 0
        else:
            seen.add("rolled back")
        assert _tree(lab.repo) == before, (headroom, line)
        assert not journal_dir_for(lab.repo).exists()
    assert "done" in seen and len(seen) >= 2, seen


def test_read_only_mount_mid_migrate_rolls_everything_back(
    pristine: SmallLab, tmp_path: Path
) -> None:
    _root_only()
    lab = copy_lab(pristine, tmp_path / "repo")
    before = _tree(lab.repo)
    target = lab.repo / "hosts" / "beta"
    bound = subprocess.run(["mount", "--bind", str(target), str(target)], check=False)
    need(bound.returncode == 0, "cannot bind-mount here")
    try:
        remount = ["mount", "-o", "remount,ro,bind", str(target)]
        remounted = subprocess.run(remount, check=False)
        need(remounted.returncode == 0, "cannot remount read-only here")
        result = lab.run("migrate", "--yes")
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)
    assert result.returncode == 3, result.stderr
    assert result.stderr.decode().splitlines() == [
        "error: cannot write hosts/beta/default.nix: Read-only file system; every change of "
        "this run was rolled back (hint: the filesystem is mounted read-only: remount it "
        "read-write and retry)"
    ]
    assert _tree(lab.repo) == before
    assert lab.run("migrate", "--yes").returncode == 0


def test_an_os_error_outside_a_transaction_is_one_line_exit_3(
    pristine: SmallLab, tmp_path: Path, immutable: list[Path]
) -> None:
    # Before issue 13 a refused write reached the error boundary as a bug (exit 5).
    lab = copy_lab(pristine, tmp_path / "repo")
    locked = tmp_path / "reports"
    locked.mkdir()
    _chattr("+i", locked, immutable)
    result = lab.run("scan", "--output", str(locked / "report.txt"))
    assert result.returncode == 3, result.stderr
    assert result.stderr.decode().splitlines() == [
        f"error: {locked / 'report.txt'}: Operation not permitted (hint: the file may be "
        "immutable (lsattr; chattr -i FILE) or not yours)"
    ]
