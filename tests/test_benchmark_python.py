"""The benchmarks time secretkit as an installed copy starts (benchmarks/_pairs.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import _pairs  # noqa: E402


def test_the_benchmark_python_imports_this_checkout_without_an_import_hook() -> None:
    exe = _pairs.python()
    assert exe == _pairs.python()  # (made once per run)
    probe = (
        "import sys, secretkit, click, tree_sitter;"
        "print(secretkit.__file__);"
        "print(sorted(m for m in sys.modules if 'editable' in m or m == 'coverage'))"
    )
    out = subprocess.run(
        [exe, "-c", probe], capture_output=True, text=True, check=True, cwd="/"
    ).stdout.splitlines()
    assert Path(out[0]) == ROOT / "secretkit" / "__init__.py"
    assert out[1] == "[]"
