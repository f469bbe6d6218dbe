"""Timing of the pure-Python sops engine (not a test; prints figures).

    python benchmarks/sops_bench.py [--values 1000] [--files 100] [--repeat 3]

* encrypt and decrypt (MAC verified) of a YAML file with N values, 2 age recipients;
* updatekeys over M files after adding a recipient (re-wrap only);
* rotate data-keys over the same M files.

Every figure is the best of ``--repeat`` runs.  For comparison the Go sops binary
(when on PATH) is timed on the same decrypt; otherwise that line says it is absent.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pyrage import x25519

from secretkit.sops import document, operations
from secretkit.sops.config import parse_config
from secretkit.sops.identities import load_identities


def best(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def report(label: str, seconds: float, count: int, per: str, scale: float, note: str = "") -> None:
    extra = f", {note}" if note else ""
    print(f"  {label:<24}: {seconds * 1000:8.1f} ms  ({seconds / count * scale:.2f} {per}{extra})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=1000)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    keys = [x25519.Identity.generate() for _ in range(3)]
    publics = [str(k.to_public()) for k in keys]
    identities = load_identities({"SOPS_AGE_KEY": str(keys[0]), "HOME": "/nonexistent"})
    root = Path(tempfile.mkdtemp(prefix="sops-bench-"))
    try:
        two = parse_config(
            f"creation_rules:\n  - age: [{publics[0]}, {publics[1]}]\n".encode(),
            root / ".sops.yaml",
        ).rules[0]
        three = parse_config(
            f"creation_rules:\n  - age: [{', '.join(publics)}]\n".encode(), root / ".sops.yaml"
        ).rules[0]

        lines = [f"group{i // 50}:\n" if i % 50 == 0 else "" for i in range(args.values)]
        body = "".join(
            f"{lines[i]}    key{i}: value-{i:06d}-{os.urandom(8).hex()}\n"
            for i in range(args.values)
        ).encode()
        plain = document.load_plain(body, "yaml")
        encrypted = operations.encrypt_new(plain, two)

        print(f"sops engine benchmark (python {sys.version.split()[0]}, best of {args.repeat})")
        t = best(
            args.repeat, lambda: operations.encrypt_new(document.load_plain(body, "yaml"), two)
        )
        report(f"encrypt {args.values} values", t, args.values, "µs/value", 1e6)
        t = best(args.repeat, lambda: operations.decrypt_bytes(encrypted, "yaml", identities))
        report(f"decrypt {args.values} values", t, args.values, "µs/value", 1e6, "MAC verified")

        small = document.load_plain(b"a:\n    token: not-real\n    user: x\n", "yaml")
        files = [operations.encrypt_new(small, two) for _ in range(args.files)]

        def updatekeys_all() -> None:
            for data in files:
                assert operations.updatekeys_bytes(data, "yaml", three, identities) is not None

        def rotate_all() -> None:
            for data in files:
                operations.rotate_bytes(data, "yaml", identities)

        t = best(args.repeat, updatekeys_all)
        report(f"updatekeys {args.files} files", t, args.files, "ms/file", 1e3)
        t = best(args.repeat, rotate_all)
        report(f"rotate {args.files} files", t, args.files, "ms/file", 1e3)

        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        raw_key = os.urandom(32)
        values = [line.split(b": ", 1)[1] for line in body.splitlines() if b": " in line]

        def raw_gcm() -> None:
            gcm = AESGCM(raw_key)
            for value in values:
                gcm.encrypt(os.urandom(32), value, b"aad:")

        t_raw = best(args.repeat, raw_gcm)
        report(f"baseline: raw AES-GCM x{len(values)}", t_raw, len(values), "µs/value", 1e6)
        sops = shutil.which("sops")
        if sops is None:
            print("  comparison: Go sops not on PATH (not installable here); no baseline")
        else:
            path = root / "big.yaml"
            path.write_bytes(encrypted)
            keyfile = root / "k.txt"
            keyfile.write_text(str(keys[0]) + "\n")
            env = {**os.environ, "SOPS_AGE_KEY_FILE": str(keyfile)}
            t_go = best(
                args.repeat,
                lambda: subprocess.run(
                    [sops, "decrypt", str(path)], env=env, capture_output=True, check=True
                ),
            )
            print(f"  comparison: Go sops decrypt {args.values} values: {t_go * 1000:.1f} ms")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
