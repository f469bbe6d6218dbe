"""Fake secrets, built at run time so that no token-shaped literal is committed.

Each builder is deterministic for a given ``seed`` so tests can be reproducible,
and none of the outputs is a real credential.
"""

from __future__ import annotations

import hashlib
import random
import string

_ALNUM = string.ascii_letters + string.digits
_LOWER_ALNUM = string.ascii_lowercase + string.digits


def _rng(seed: str) -> random.Random:
    return random.Random(hashlib.sha256(seed.encode()).digest())


def chars(alphabet: str, n: int, seed: str) -> str:
    rng = _rng(seed)
    return "".join(rng.choice(alphabet) for _ in range(n))


def pushover_token(seed: str = "app") -> str:
    """30 characters [a-z0-9], starting with 'a' like Pushover application tokens."""
    return "a" + chars(_LOWER_ALNUM, 29, "pushover-app-" + seed)


def pushover_user_key(seed: str = "user") -> str:
    """30 characters [a-z0-9], starting with 'u' like Pushover user keys."""
    return "u" + chars(_LOWER_ALNUM, 29, "pushover-user-" + seed)


def syncthing_api_key(seed: str = "st") -> str:
    """32 characters [a-zA-Z0-9] like a generated Syncthing GUI API key."""
    return chars(_ALNUM, 32, "syncthing-" + seed)


def tailscale_auth_key(seed: str = "ts") -> str:
    return "tskey-" + "auth-" + chars(_ALNUM, 12, "ts1-" + seed) + "-" + chars(_ALNUM, 32, seed)


def passphrase(seed: str = "borg") -> str:
    words = ["correct", "horse", "battery", "staple", "orbit", "meadow", "copper", "lantern"]
    rng = _rng("phrase-" + seed)
    return "-".join(rng.choice(words) for _ in range(4)) + str(rng.randint(10, 99))


def password(seed: str = "pw") -> str:
    return chars(_ALNUM, 14, "password-" + seed)


def hex_key(n_bytes: int = 32, seed: str = "hex") -> str:
    return chars("0123456789abcdef", 2 * n_bytes, "hex-" + seed)


def wireguard_private_key(seed: str = "wg") -> str:
    import base64

    raw = hashlib.sha256(("wg-" + seed).encode()).digest()
    return base64.b64encode(raw).decode()


def github_token(seed: str = "gh") -> str:
    return "gh" + "p_" + chars(_ALNUM, 36, "github-" + seed)


from pathlib import Path  # noqa: E402  (appended: this file is append-only)


def secretkit_bin(directory: Path) -> Path:
    """Write a ``secretkit`` executable into ``directory`` that runs this checkout with the
    current Python (for git hooks and pre-commit, which find ``secretkit`` on PATH)."""
    import sys

    root = Path(__file__).resolve().parent.parent.parent
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "secretkit"
    script.write_text(
        f'#!/bin/sh\nPYTHONPATH="{root}${{PYTHONPATH:+:$PYTHONPATH}}" '
        f'exec "{sys.executable}" -m secretkit "$@"\n'
    )
    script.chmod(0o755)
    return script
