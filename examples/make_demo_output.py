"""Regenerate the committed demo output: the top-level ``.sops.yaml`` and ``secrets/``.

    python examples/make_demo_output.py

Runs ``secretkit demo`` with the committed test-only keys in
``examples/homelab/keys`` (``admin.agekey``, an age identity that exists only for
this demo, and ``hosts/<name>.pub``, the demo hosts' public ssh keys; their
private halves are thrown away) and copies the resulting ``.sops.yaml`` and
``secrets/<host>.yaml`` to the top of the repository, and allowlists the
test-only admin key in ``.secretkit-allow``.  Decrypt them with
``SOPS_AGE_KEY_FILE=examples/homelab/keys/admin.agekey secretkit decrypt secrets/observer.yaml``.
The values are freshly generated fakes, so every run gives new files.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from secretkit.commands.demo import demo  # noqa: E402

KEYS = ROOT / "examples" / "homelab" / "keys"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="secretkit-demo-output-") as tmp:
        result = demo(Path(tmp), keys=KEYS)
        if result.findings_after or result.leaked:
            sys.exit("demo did not finish clean; nothing copied")
        for private in (KEYS / "hosts").glob("*_ed25519"):
            private.unlink()  # only the public halves are committed
        shutil.copyfile(result.directory / ".sops.yaml", ROOT / ".sops.yaml")
        target = ROOT / "secrets"
        target.mkdir(exist_ok=True)
        for old in target.glob("*.yaml"):
            old.unlink()
        for file in sorted((result.directory / "secrets").glob("*.yaml")):
            shutil.copyfile(file, target / file.name)
            print(f"secrets/{file.name}")
    os.chmod(KEYS / "admin.agekey", 0o600)
    print(".sops.yaml")
    allow_admin_key()


def allow_admin_key() -> None:
    """Allowlist the committed test-only admin identity for the project's own hook."""
    from secretkit.atomic import write_atomic
    from secretkit.scan.allowlist import ALLOW_FILE, load

    secret = next(
        line.strip()
        for line in (KEYS / "admin.agekey").read_text().splitlines()
        if line.startswith("AGE-SECRET-KEY-")
    )
    entry = load(ROOT).fingerprint(secret)
    path = ROOT / ALLOW_FILE
    lines = path.read_text().splitlines() if path.exists() else []
    lines = [line for line in lines if "examples/homelab/keys/admin.agekey" not in line]
    lines.append(f"{entry}  # examples/homelab/keys/admin.agekey (test-only demo key)")
    write_atomic(path, ("\n".join(lines) + "\n").encode())
    print(ALLOW_FILE)


if __name__ == "__main__":
    main()
