"""The tooling bar of STYLE.md, enforced by the test suite (and so by CI): ruff lint and
format, and mypy --strict on the package (configured in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT, need


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_lint() -> None:
    need(shutil.which("ruff") is not None, "ruff is not installed (pip install -e '.[test]')")
    proc = run("ruff", "check", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format() -> None:
    need(shutil.which("ruff") is not None, "ruff is not installed (pip install -e '.[test]')")
    proc = run("ruff", "format", "--check", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_mypy_strict() -> None:
    proc = run(sys.executable, "-m", "mypy", "--no-incremental")
    assert proc.returncode == 0, proc.stdout + proc.stderr
