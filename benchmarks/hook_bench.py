"""Pre-commit hook latency: `secretkit hook` next to `detect-secrets-hook`.

Builds a throw-away git repository with NixOS-style modules (fake secrets, made at
run time), stages 1 and then 5 of them, and times each hook as the pre-commit
framework would run it (a fresh process, file names as arguments).  Prints the
median and min of N runs, Python's own start-up as the floor, and the ratio.

    python benchmarks/hook_bench.py [--runs 15]

Target (issue 7): secretkit ≤ 120 ms for five staged files on the dev machine.
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

from tests.support import fake  # noqa: E402

MODULE = """\
{{ config, pkgs, ... }}:
{{
  services.prometheus = {{
    enable = true;
    port = 9090;
    scrapeConfigs = [
      {{
        job_name = "node{i}";
        static_configs = [ {{ targets = [ "host{i}:9100" ]; }} ];
      }}
    ];
  }};
  services.borgbackup.jobs.home{i} = {{
    paths = [ "/home" ];
    repo = "ssh://backup@nas/./home{i}";
    encryption.mode = "repokey-blake2";
    encryption.passCommand = "cat ${{config.sops.secrets.borg.path}}";
  }};
  environment.systemPackages = with pkgs; [ git htop ripgrep ];
  src = pkgs.fetchFromGitHub {{
    owner = "example";
    repo = "tool{i}";
    rev = "{rev}";
    hash = "sha256-{hash}";
  }};
{extra}}}
"""


def module(i: int, leak: bool) -> str:
    extra = f'  services.foo.settings.password = "{fake.password(f"bench{i}")}";\n' if leak else ""
    return MODULE.format(
        i=i,
        rev=fake.hex_key(20, f"rev{i}"),
        hash=fake.wireguard_private_key(f"h{i}"),
        extra=extra,
    )


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def make_repo(base: Path, n_files: int, name: str = "") -> tuple[Path, list[str]]:
    repo = base / (name or f"repo{n_files}")
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "bench")
    git(repo, "config", "user.email", "bench@example.invalid")
    (repo / "flake.nix").write_text("{ outputs = { ... }: { }; }\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "--no-verify", "-m", "base")
    names = []
    for i in range(n_files):
        name = f"hosts/h{i}/default.nix"
        path = repo / name
        path.parent.mkdir(parents=True)
        path.write_text(module(i, leak=(i == 0)))
        names.append(name)
    git(repo, "add", ".")
    return repo, names


def add_sops_file(repo: Path, base: Path) -> Path:
    """A .sops.yaml (admin + host) and a real encrypted secrets/h0.yaml, staged;
    returns the admin key file."""
    from pyrage import x25519

    from secretkit.keys import sops_yaml
    from secretkit.sops import api, document
    from secretkit.sops.config import find_config

    admin, host = x25519.Identity.generate(), x25519.Identity.generate()
    sops_yaml.init(repo, str(admin.to_public()), "bench")
    sops_yaml.add_host(repo, "h0", str(host.to_public()))
    config = find_config(repo)
    assert config is not None
    rule = config.rule_for(repo / "secrets/h0.yaml")
    assert rule is not None
    values = {"borg": fake.passphrase("bench"), "token": fake.pushover_token("bench")}
    data = api.encrypt_new(document.new_plain("yaml", values), rule)
    (repo / "secrets").mkdir()
    (repo / "secrets" / "h0.yaml").write_bytes(data)
    key_file = base / "admin.txt"
    key_file.write_text(str(admin) + "\n")
    git(repo, "add", ".")
    return key_file


def timed(cmd: list[str], cwd: Path, env: dict[str, str], runs: int) -> tuple[float, float, int]:
    samples = []
    code = 0
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True)
        samples.append(time.perf_counter() - start)
        code = proc.returncode
    return statistics.median(samples) * 1000, min(samples) * 1000, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("SOPS_AGE_KEY_FILE", None)
    # An installed secretkit runs from byte-compiled modules; this checkout may have
    # PYTHONDONTWRITEBYTECODE set, which would add ~25 ms of compiling per run.  Cache
    # the bytecode outside the tree instead (the first, untimed run fills it).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    detect = shutil.which("detect-secrets-hook")
    secretkit = [sys.executable, "-m", "secretkit", "hook", "--"]
    rows: list[tuple[str, int, float, float, int]] = []
    with tempfile.TemporaryDirectory(prefix="hook-bench-") as tmp:
        base = Path(tmp)
        env["PYTHONPYCACHEPREFIX"] = str(base / "pycache")
        floor = timed([sys.executable, "-c", "pass"], base, env, args.runs)
        rows.append(("python -c pass (floor)", 0, floor[0], floor[1], floor[2]))
        version = [sys.executable, "-m", "secretkit", "--version"]
        timed(version, base, env, 1)  # warm the bytecode cache
        imports = timed(version, base, env, args.runs)
        rows.append(("secretkit --version", 0, imports[0], imports[1], imports[2]))
        for n in (1, 5):
            repo, names = make_repo(base, n)
            timed([*secretkit, *names], repo, env, 1)  # warm the bytecode cache
            med, best, code = timed([*secretkit, *names], repo, env, args.runs)
            rows.append(("secretkit hook", n, med, best, code))
            if detect:
                med, best, code = timed([detect, *names], repo, env, args.runs)
                rows.append(("detect-secrets-hook", n, med, best, code))
        # After migrate: a .sops.yaml, and one of the five staged files is a sops file
        # that the hook verifies (MAC) with the admin key.
        repo, names = make_repo(base, 5, "repo-sops")
        key_file = add_sops_file(repo, base)
        names = [*names[:4], "secrets/h0.yaml"]
        sops_env = dict(env, SOPS_AGE_KEY_FILE=str(key_file))
        timed([*secretkit, *names], repo, sops_env, 1)
        med, best, code = timed([*secretkit, *names], repo, sops_env, args.runs)
        rows.append(("secretkit hook +sops file", 5, med, best, code))
    print(f"hook latency, {args.runs} runs each (ms; exit 1 = blocked, as expected)")
    print(f"{'command':<26}{'files':>6}{'median':>9}{'min':>9}{'exit':>6}")
    for name, n, med, best, code in rows:
        print(f"{name:<26}{n or '':>6}{med:>9.1f}{best:>9.1f}{code:>6}")
    broken = [(name, n, code) for name, n, _, _, code in rows if code not in (0, 1)]
    for name, n, code in broken:
        print(f"warning: {name} with {n} file(s) exited {code}: the timing is not meaningful")
    by = {(name, n): med for name, n, med, _, _ in rows}
    for n in (1, 5):
        ours = by.get(("secretkit hook", n))
        theirs = by.get(("detect-secrets-hook", n))
        if ours and theirs:
            print(
                f"{n} file(s): secretkit is {theirs / ours:.2f}x the speed of detect-secrets-hook"
            )
    five = by.get(("secretkit hook", 5))
    if five is not None:
        verdict = "meets" if five <= 120 else "misses"
        print(f"target ≤ 120 ms for five staged files: {verdict} ({five:.0f} ms)")
    if not detect:
        print("detect-secrets-hook is not installed: no comparison")


if __name__ == "__main__":
    main()
