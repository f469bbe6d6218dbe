"""Migrate the example homelab end to end and print the time (target: ≤ 1.5 s).

    python benchmarks/migrate_bench.py [--runs N]

Each run copies examples/homelab into a fresh git repository, fills the fake
secrets, registers demo keys for the 8 hosts, and then times
``secretkit migrate --yes`` in-process (scan, host discovery, plan, 8 sops files
written and read back, 7 Nix files rewritten).  The setup is not timed.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from secretkit.commands import migrate  # noqa: E402
from secretkit.commands.demo import demo_admin_key, demo_host_key, example_source, fill  # noqa: E402
from secretkit.keys import sops_yaml_edits  # noqa: E402
from secretkit.keys.ssh_to_age import ssh_pubkey_to_age  # noqa: E402
from secretkit.nix.hosts import discover  # noqa: E402

TARGET = 1.5


def setup(base: Path, keys: Path) -> Path:
    repo = base / "homelab"
    shutil.copytree(example_source(), repo, ignore=shutil.ignore_patterns("keys"))
    values: dict[str, str] = {}
    for file in repo.rglob("*.nix"):
        file.write_bytes(fill(file.read_bytes(), values))
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "--no-verify", "-m", "lab"], cwd=repo, check=True)
    admin, public = demo_admin_key(keys)
    os.environ["SOPS_AGE_KEY_FILE"] = str(admin)
    sops_yaml_edits.init(repo, public, "bench")
    for host in sorted(discover(repo).hosts):
        line, _ = demo_host_key(keys, host)
        sops_yaml_edits.add_host(repo, host, ssh_pubkey_to_age(line))
    return repo


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="secretkit-bench-") as tmp:
        keys = Path(tmp) / "keys"
        for i in range(args.runs):
            repo = setup(Path(tmp) / f"run{i}", keys)
            start = time.perf_counter()
            prepared = migrate.prepare(repo)
            written = migrate.apply(prepared)
            times.append(time.perf_counter() - start)
            moved = len(prepared.plan.moves)
    best, median = min(times), statistics.median(times)
    print(f"migrate example homelab: {moved} secrets, {len(written)} files written")
    print(f"  runs: {args.runs}  best: {best:.3f} s  median: {median:.3f} s  target: ≤ {TARGET} s")
    print(
        f"  {'OK' if median <= TARGET else 'SLOWER THAN TARGET'} ({median / TARGET:.0%} of target)"
    )


if __name__ == "__main__":
    main()
