"""cli_params.py: an empty path is refused as a usage error (exit 2) by every way in,
the click CLI and the scan's own argument reader (entry.scan_arguments), instead of
being read as "." (issue 15's helpers: `scan --output ""` said it could not write
".", and `scan ""` scanned a directory nobody named)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from secretkit.cli_params import KIND_NAMES
from secretkit.generate import KINDS


def test_the_kind_names_are_the_generators_kinds() -> None:
    assert KIND_NAMES == list(KINDS)


@pytest.mark.parametrize(
    "args",
    [
        ["scan", "--output", ""],
        ["scan", "--output="],
        ["scan", ""],
        ["scan", "--", ""],
        ["scan", "--history", "", "."],
        ["encrypt", ""],
        ["keygen", "--output", ""],
    ],
    ids=lambda a: " ".join(repr(x) if not x else x for x in a),
)
def test_an_empty_path_is_a_usage_error(args: list[str], tmp_git_repo: Path) -> None:
    (tmp_git_repo / "app.env").write_text("API_TOKEN=" + "q7Zr" * 6 + "\n")
    before = sorted(p.name for p in tmp_git_repo.iterdir())
    proc = subprocess.run(
        [sys.executable, "-m", "secretkit", *args],
        cwd=tmp_git_repo,
        capture_output=True,
        env=dict(os.environ, GIT_CEILING_DIRECTORIES=str(tmp_git_repo.parent)),
        timeout=120,
    )
    stderr = proc.stderr.decode()
    assert proc.returncode == 2, (proc.returncode, stderr)
    assert "an empty name is not a path" in stderr
    assert proc.stdout == b""  # nothing was scanned, nothing reported
    assert sorted(p.name for p in tmp_git_repo.iterdir()) == before
