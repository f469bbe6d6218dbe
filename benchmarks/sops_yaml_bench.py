"""`.sops.yaml` edits on big files: 500 hosts, in two layouts that used to be slow.

Layouts: the sops-nix README's (`key_groups:` lists indented less than the top ones,
a comment on every key) and 5-space indentation with comments.  Each command runs as
a fresh process (`secretkit hosts add/remove`, `init --admin` for a second admin,
`rotate host` of a host with no files, `hosts list`) in a throw-away git repository;
prints the median of N runs per command.

    python benchmarks/sops_yaml_bench.py [--hosts 500] [--runs 3]

Target (issue 13): every command ≤ 2 s at 500 hosts (it took 13 s at 40 hosts and
135 s at 80 with the README layout before edits became span splices).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def recipient(i: int) -> str:
    from secretkit.sops.keysources.bech32 import age_recipient

    return age_recipient(i.to_bytes(4, "big") * 8)


def readme_layout(n: int) -> str:
    out = ["keys:", f"  - &admin_stian {recipient(0)}  # laptop"]
    out += [f"  - &host_h{i} {recipient(i + 1)}  # host h{i}" for i in range(n)]
    out.append("creation_rules:")
    for i in range(n):
        out += [
            f"  - path_regex: ^secrets/h{i}\\.yaml$",
            "    key_groups:",
            "    - age:",
            "      - *admin_stian",
            f"      - *host_h{i}",
        ]
    return "\n".join(out) + "\n"


def five_space_layout(n: int) -> str:
    out = ["# keys", "keys:", f"     - &admin_stian {recipient(0)}"]
    for i in range(n):
        out += [f"     # host h{i}", f"     - &host_h{i} {recipient(i + 1)}"]
    out.append("creation_rules:")
    for i in range(n):
        out += [
            f"     # rule for h{i}",
            f"     - path_regex: ^secrets/h{i}\\.yaml$",
            "       key_groups:",
            "            - age:",
            "                 - *admin_stian  # admin",
            f"                 - *host_h{i}",
        ]
    return "\n".join(out) + "\n"


def run(repo: Path, *args: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "secretkit", "-C", str(repo), *args],
        env=env,
        capture_output=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {proc.stderr.decode().strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    n = args.hosts
    commands = [
        ("hosts add", ["hosts", "add", "newhost", "--age", recipient(10**6)]),
        ("rotate host", ["rotate", "host", "h7", "--age", recipient(10**6 + 1)]),
        ("init (2nd admin)", ["init", "--admin", recipient(10**6 + 2), "--admin-name", "bob"]),
        ("hosts remove", ["hosts", "remove", "h3"]),
        ("hosts list", ["hosts", "list"]),
    ]
    print(f"{n} hosts, median of {args.runs} fresh processes")
    for name, layout in (("README", readme_layout(n)), ("5-space", five_space_layout(n))):
        print(f"layout {name} ({len(layout) // 1024} KB)")
        for label, command in commands:
            times = []
            for _ in range(args.runs):
                with tempfile.TemporaryDirectory() as tmp:
                    repo = Path(tmp)
                    subprocess.run(["git", "init", "-q", str(repo)], check=True)
                    (repo / ".sops.yaml").write_text(layout)
                    times.append(run(repo, *command))
            verdict = "ok" if statistics.median(times) <= 2.0 else "SLOW"
            print(f"  {label:18} {statistics.median(times):6.2f} s  {verdict}")
    shutil.rmtree(Path(tempfile.gettempdir()) / "nonexistent", ignore_errors=True)


if __name__ == "__main__":
    main()
