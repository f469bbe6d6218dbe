"""Regenerate the output examples in README.md from real runs, or check them.

    python3 examples/make_readme_examples.py           # rewrite the README blocks
    python3 examples/make_readme_examples.py --check   # exit 1 when they drifted

Builds a small example tree in a temporary folder (a Nix module with a fake
Pushover token made here at run time, and a binary file), runs ``secretkit scan
--format json`` and ``--format sarif`` on it, and puts their output between the
``<!-- example: NAME -->`` and ``<!-- end of example -->`` markers of README.md.
The tree is not a git repository, so fingerprints use the fixed key and every run
gives the same bytes, except the measured ``seconds``, which ``--check`` ignores.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import string
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

MODULE = """\
{ ... }:
{
  services.prometheus.alertmanager.configuration.receivers = [{
    name = "phone";
    pushover_configs = [{ token = "@TOKEN@"; user_key_file = "/run/keys/pushover-user"; }];
  }];
}
"""


def fake_pushover_token() -> str:
    """30 characters [a-z0-9] starting with 'a', derived from a fixed seed."""
    alphabet = string.ascii_lowercase + string.digits
    digest = hashlib.sha256(b"secretkit readme example").digest()
    return "a" + "".join(alphabet[b % len(alphabet)] for b in digest[:29])


def build_tree(directory: Path) -> None:
    (directory / "hosts" / "web").mkdir(parents=True)
    module = MODULE.replace("@TOKEN@", fake_pushover_token())
    (directory / "hosts" / "web" / "alerting.nix").write_text(module)
    (directory / "wallpaper.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))


def run_scan(directory: Path, fmt: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "secretkit", "-C", str(directory), "scan", "--format", fmt],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 1:  # one finding expected
        sys.exit(f"scan --format {fmt} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


def examples() -> dict[str, str]:
    with tempfile.TemporaryDirectory(prefix="secretkit-readme-") as tmp:
        tree = Path(tmp)
        build_tree(tree)
        as_json = run_scan(tree, "json")
        sarif = json.loads(run_scan(tree, "sarif"))
    result = sarif["runs"][0]["results"][0]
    return {
        "scan --format json": as_json.rstrip("\n") + "\n",
        "scan --format sarif (one result)": json.dumps(result, indent=2, ensure_ascii=False) + "\n",
    }


def block_pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- example: {re.escape(name)} -->\n```json\n)(.*?)(```\n<!-- end of example -->)",
        re.S,
    )


def _mask(text: str) -> str:
    return re.sub(r'"seconds": [0-9.e-]+', '"seconds": …', text)


def main(argv: list[str]) -> int:
    check = argv[1:] == ["--check"]
    readme = README.read_text(encoding="utf-8")
    updated = readme
    drifted = []
    for name, body in examples().items():
        pattern = block_pattern(name)
        match = pattern.search(updated)
        if match is None:
            print(f"README.md has no block <!-- example: {name} -->", file=sys.stderr)
            return 1
        if _mask(match.group(2)) != _mask(body):
            drifted.append(name)
        updated = pattern.sub(lambda m, b=body: m.group(1) + b + m.group(3), updated, count=1)
    if check:
        for name in drifted:
            print(
                f"README.md example '{name}' differs from a real run; "
                "run python3 examples/make_readme_examples.py",
                file=sys.stderr,
            )
        return 1 if drifted else 0
    if updated != readme:
        README.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
