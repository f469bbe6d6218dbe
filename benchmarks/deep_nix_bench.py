"""`secretkit check` and `scan` on deeply nested Nix: attrsets 1,000 and 2,000 deep,
10,000 nested `let`, 100,000 nested list brackets.

Each case is a throw-away git repository with one such file; each command runs as a
fresh process.  Before issue 13, 1,000-deep attrsets took 47 s in `check` and 2,000 or
10,000 nested `let` over 300 s; now paths are built in one pass from the top and
nesting deeper than 2,000 levels is refused with one line (scan: exit 3, check: a
FAIL line and exit 1).

    python benchmarks/deep_nix_bench.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def attrsets(depth: int) -> str:
    return "{ a = " + "".join(f"{{ b{i} = " for i in range(depth)) + "1;" + " };" * depth + " }\n"


def lets(depth: int) -> str:
    return (
        "let\n"
        + "".join(f"  x{i} = let\n" for i in range(depth))
        + " 1"
        + " in 1;\n" * depth
        + "in {}\n"
    )


def lists(depth: int) -> str:
    return "{ a = " + "[" * depth + " 1 " + "]" * depth + "; }\n"


CASES = [
    ("attrsets 1,000 deep", attrsets(1000)),
    ("attrsets 2,000 deep", attrsets(2000)),
    ("let 10,000 deep", lets(10_000)),
    ("lists 100,000 deep", lists(100_000)),
]


def timed(repo: Path, *args: str) -> tuple[float, int]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "secretkit", "-C", str(repo), *args],
        env=env,
        capture_output=True,
        check=False,
        timeout=600,
    )
    return time.perf_counter() - started, proc.returncode


def main() -> None:
    for label, text in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            repo = Path(tmp)
            subprocess.run(["git", "init", "-q", str(repo)], check=True)
            (repo / "deep.nix").write_text(text)
            git = ["git", "-C", str(repo), "-c", "user.name=b", "-c", "user.email=b@b.invalid"]
            subprocess.run([*git, "add", "-A"], check=True)
            subprocess.run([*git, "commit", "-qm", "deep"], check=True)
            scan_s, scan_rc = timed(repo, "scan", "deep.nix")
            check_s, check_rc = timed(repo, "check")
            print(f"{label:22} scan {scan_s:6.2f} s (exit {scan_rc})   "
                  f"check {check_s:6.2f} s (exit {check_rc})")  # fmt: skip


if __name__ == "__main__":
    main()
