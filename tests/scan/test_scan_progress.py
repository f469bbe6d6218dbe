"""History-scan progress on stderr when it is not a terminal: plain lines, about one
a second, never going back, the last one complete (`scan --history`, `check`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, commit_all


def test_scan_history_prints_plain_progress_lines_off_a_terminal(tmp_git_repo: Path) -> None:
    for i in range(80):
        (tmp_git_repo / f"m{i}.nix").write_text(f"{{ services.s{i}.enable = true; }}\n")
    commit_all(tmp_git_repo)
    proc = subprocess.run(
        [sys.executable, "-m", "secretkit", "scan", "--history"],
        cwd=tmp_git_repo,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines and all(line.startswith("scanning history: ") for line in lines)
    assert "\r" not in proc.stderr
    assert lines[-1] == "scanning history: 80/80 blobs (100%)"
    counts = [int(line.split()[2].split("/")[0]) for line in lines if "/" in line]
    assert counts == sorted(counts)  # never goes back
