"""Timing of ``secretkit rotate host`` (not a test; prints figures).

    python benchmarks/rotate_bench.py [--files 200] [--values 20] [--repeat 3]

A git repository with one admin, host ``web`` (whose rule matches ``--files``
files of ``--values`` values each) and host ``db`` (20 files that must stay
untouched).  Timed, best of ``--repeat`` runs on fresh copies:

* ``rotate host web`` in process (plan, re-key in memory, one transaction);
* the same through the CLI in a subprocess (adds interpreter start-up);
* for comparison, one process per file (``secretkit rotate data-keys FILE``, the way
  sops users script it), measured on 10 files and scaled to ``--files``.

Target: ≤ 3 s for 200 files × 20 values.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pyrage import x25519  # noqa: E402

from secretkit.sops import operations  # noqa: E402
from secretkit.sops.config import find_config  # noqa: E402
from secretkit.sops.identities import load_identities  # noqa: E402

TARGET = 3.0


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def build(base: Path, files: int, values: int) -> tuple[Path, str]:
    admin = x25519.Identity.generate()
    web, db = (str(x25519.Identity.generate().to_public()) for _ in range(2))
    repo = base / "template"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / ".sops.yaml").write_text(
        "keys:\n"
        f"  - &admin_bench {admin.to_public()}\n"
        f"  - &host_web {web}\n"
        f"  - &host_db {db}\n"
        "creation_rules:\n"
        "  - path_regex: ^secrets/web/.*\\.yaml$\n"
        "    key_groups:\n"
        "      - age: [*admin_bench, *host_web]\n"
        "  - path_regex: ^secrets/db/.*\\.yaml$\n"
        "    key_groups:\n"
        "      - age: [*admin_bench, *host_db]\n"
    )
    config = find_config(repo)
    assert config is not None
    identities = load_identities({"SOPS_AGE_KEY": str(admin), "HOME": "/nonexistent"})
    for host, count in (("web", files), ("db", 20)):
        (repo / "secrets" / host).mkdir(parents=True)
        for i in range(count):
            path = repo / "secrets" / host / f"svc{i:04}.yaml"
            rule = config.rule_for(path)
            assert rule is not None
            content = {("svc", f"k{j:02}"): os.urandom(12).hex() for j in range(values)}
            path.write_bytes(
                operations.set_values(None, "yaml", content, rule=rule, identities=identities)
            )
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=b", "-c", "user.email=b@example.invalid", "commit", "-qm", "b")
    keyfile = base / "admin.txt"
    keyfile.write_text(f"{admin}\n")
    keyfile.chmod(0o600)
    return repo, str(keyfile)


def fresh(template: Path, base: Path, n: int) -> Path:
    copy = base / f"run{n}"
    shutil.copytree(template, copy, symlinks=True)
    return copy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--values", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from secretkit.commands.rotate_host import rotate_host

    base = Path(tempfile.mkdtemp(prefix="rotate-bench-"))
    try:
        template, keyfile = build(base, args.files, args.values)
        identities = load_identities({"SOPS_AGE_KEY_FILE": keyfile, "HOME": "/nonexistent"})
        runs = 0
        in_process: list[float] = []
        for _ in range(args.repeat):
            runs += 1
            repo = fresh(template, base, runs)
            new = str(x25519.Identity.generate().to_public())
            start = time.perf_counter()
            result = rotate_host(repo, "web", new, identities=identities)
            in_process.append(time.perf_counter() - start)
            assert len(result.files) == args.files
        env = {**os.environ, "SOPS_AGE_KEY_FILE": keyfile, "PYTHONPATH": str(ROOT)}
        cli: list[float] = []
        for _ in range(args.repeat):
            runs += 1
            repo = fresh(template, base, runs)
            new = str(x25519.Identity.generate().to_public())
            command = [sys.executable, "-m", "secretkit", "-C", str(repo)]
            start = time.perf_counter()
            subprocess.run([*command, "rotate", "host", "web", "--age", new],
                           env=env, check=True, capture_output=True)  # fmt: skip
            cli.append(time.perf_counter() - start)
        runs += 1
        repo = fresh(template, base, runs)
        sample = min(10, args.files)
        start = time.perf_counter()
        for i in range(sample):
            subprocess.run(
                [sys.executable, "-m", "secretkit", "-C", str(repo), "rotate", "data-keys",
                 f"secrets/web/svc{i:04}.yaml"],
                env=env, check=True, capture_output=True,
            )  # fmt: skip
        per_file = (time.perf_counter() - start) / sample

        best, best_cli = min(in_process), min(cli)
        label = f"{args.files} files x {args.values} values"
        print(f"rotate host web, {label} (+20 untouched files), best of {args.repeat}:")
        print(f"  in process           : {best:6.2f} s  ({best / args.files * 1000:.1f} ms/file)")
        print(f"  CLI (subprocess)     : {best_cli:6.2f} s")
        print(
            f"  one process per file : {per_file * args.files:6.2f} s  "
            f"(measured on {sample} files: {per_file * 1000:.0f} ms/file)"
        )
        verdict = "meets" if best_cli <= TARGET else "MISSES"
        print(f"  target <= {TARGET:.0f} s       : {verdict} (CLI {best_cli:.2f} s)")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
