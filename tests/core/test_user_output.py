"""user_output.py: a path the user names with --output keeps what it is (link, FIFO,
device, descriptor); a missing directory is an error, never created; a secret goes
only to a new or regular file, never through a link or into a device."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.support.cli import run_main

_CLI = [sys.executable, "-m", "secretkit"]


def test_scan_output_through_a_symlink_writes_its_target(
    committed_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (committed_repo / "reports").mkdir()
    (committed_repo / "reports" / "today.json").write_text("old\n")
    (committed_repo / "link").symlink_to("reports/today.json")
    code, _, err = run_main(
        capsys, "-C", str(committed_repo), "scan", "--format", "json", "--output", "link"
    )
    assert code in (0, 1), err
    assert (committed_repo / "link").is_symlink()
    assert json.loads((committed_repo / "reports" / "today.json").read_text())["version"] == 1


def test_scan_output_to_a_fifo_is_written_through(
    committed_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = committed_repo.parent / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    code, _, err = run_main(
        capsys, "-C", str(committed_repo), "scan", "--format", "json", "--output", str(fifo)
    )
    reader.join(timeout=30)
    assert code in (0, 1), err
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert json.loads(got[0])["version"] == 1


def test_scan_output_to_a_process_substitution(committed_repo: Path) -> None:
    """``--output >(wc -c)``: /dev/fd/N, the caller's descriptor, written as it is."""
    proc = subprocess.run(
        ["bash", "-c", 'exec "$@" --output >(wc -c)', "-", *_CLI, "scan", "--format", "json"],
        cwd=committed_repo,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert "No such file" not in proc.stderr


def test_scan_output_to_a_full_device_fails_and_keeps_the_node(
    committed_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A device node of the test's own (a copy of /dev/full: writes fail with ENOSPC), so
    that a regression replaces that node, never the machine's /dev/full."""
    full = committed_repo.parent / "full"
    try:
        os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    except PermissionError:
        pytest.skip("making a device node needs root")
    before = os.lstat(full)
    code, _, err = run_main(
        capsys, "-C", str(committed_repo), "scan", "--format", "sarif", "--output", str(full)
    )
    after = os.lstat(full)
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino
    assert code == 3 and "No space left" in err, err


@pytest.mark.parametrize("command", [["scan"], ["keygen"]])
def test_a_missing_directory_is_an_error_not_created(
    committed_repo: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    code, _, err = run_main(
        capsys, "-C", str(committed_repo), *command, "--output", "no/such/dir/x.json"
    )
    assert code == 3, err
    assert "does not exist" in err and len(err.strip().splitlines()) == 1, err
    assert not (committed_repo / "no").exists()


def test_keygen_refuses_a_fifo_or_a_link(
    committed_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.mkfifo(committed_repo / "fifo")
    (committed_repo / "link").symlink_to("elsewhere.txt")
    for name in ("fifo", "link"):
        code, _, err = run_main(capsys, "-C", str(committed_repo), "keygen", "--output", name)
        assert code == 3 and "refusing" in err, err
    assert not (committed_repo / "elsewhere.txt").exists()
    code, _, err = run_main(capsys, "-C", str(committed_repo), "keygen", "--output", "key.txt")
    assert code == 0, err
    assert stat.S_IMODE((committed_repo / "key.txt").stat().st_mode) == 0o600


def test_private_output_is_never_written_through_a_link(tmp_path: Path) -> None:
    from secretkit.errors import UserError
    from secretkit.user_output import write_private_path

    (tmp_path / "target").write_text("keep")
    (tmp_path / "link").symlink_to("target")
    with pytest.raises(UserError, match="symbolic link"):
        write_private_path(tmp_path, "link", b"plain", what="the plaintext")
    assert (tmp_path / "target").read_text() == "keep"
    written = write_private_path(tmp_path, "target", b"plain", what="the plaintext")
    assert written.read_bytes() == b"plain"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
