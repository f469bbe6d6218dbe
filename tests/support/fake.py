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


def wordy_psk(seed: str = "wifi") -> str:
    """A WPA passphrase of words that include a secret's name ("…-password-…")."""
    words = ["my", "home", "attic", "long", "blue", "garden"]
    rng = _rng("psk-" + seed)
    return f"{rng.choice(words)}-pass" + f"word-is-{rng.choice(words)}-{rng.randint(1000, 9999)}"


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


# --- scanner fakes (appended by the scanner engineer) -------------------------------


def age_secret_key(seed: str = "age") -> str:
    """A well-formed AGE-SECRET-KEY-1… (valid bech32 checksum) from a fake scalar."""
    from secretkit.sops.keysources.bech32 import encode

    return encode("age-secret-key-", hashlib.sha256(("age-" + seed).encode()).digest()).upper()


def age_secret_key_bad_checksum(seed: str = "age") -> str:
    key = age_secret_key(seed)
    last = "Q" if key[-1] != "Q" else "P"
    return key[:-1] + last


def nix_signing_key(seed: str = "cache", name: str = "cache.homelab.lan-1") -> str:
    """``name:base64`` of 64 bytes, the shape of a Nix binary-cache secret key."""
    import base64

    raw = hashlib.sha512(("nix-" + seed).encode()).digest()
    return f"{name}:{base64.b64encode(raw).decode()}"


def nix_public_key(seed: str = "cache", name: str = "cache.homelab.lan-1") -> str:
    import base64

    raw = hashlib.sha256(("nixpub-" + seed).encode()).digest()
    return f"{name}:{base64.b64encode(raw).decode()}"


def pem_private_key(kind: str = "OPENSSH", seed: str = "pem") -> str:
    """A private-key block with a fake base64 body (BEGIN/END built here, not written
    out in any test file)."""
    import base64

    body = base64.b64encode(hashlib.sha512(("pem-" + seed).encode()).digest() * 3).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    label = f"{kind} PRIVATE KEY" if kind else "PRIVATE KEY"
    dashes = "-" * 5
    return "\n".join([f"{dashes}BEGIN {label}{dashes}", *lines, f"{dashes}END {label}{dashes}"])


def aws_access_key_id(seed: str = "aws") -> str:
    return "AK" + "IA" + chars(string.ascii_uppercase + string.digits, 16, "aws-" + seed)


def slack_bot_token(seed: str = "slack") -> str:
    digits = chars(string.digits, 11, "slack-d-" + seed)
    return "xo" + "xb-" + digits + "-" + digits[::-1] + "-" + chars(_LOWER_ALNUM, 24, seed)


def stripe_live_key(seed: str = "stripe") -> str:
    return "sk" + "_live_" + chars(_ALNUM, 24, "stripe-" + seed)


def syncthing_device_id(seed: str = "dev") -> str:
    alphabet = string.ascii_uppercase + "234567"
    return "-".join(chars(alphabet, 7, f"dev-{seed}-{i}") for i in range(8))


def sha512_crypt_like(seed: str = "crypt") -> str:
    """The shape of a ``$6$`` crypt hash (not a real hash of anything)."""
    return "$" + "6$" + chars(_ALNUM, 16, "salt-" + seed) + "$" + chars(_ALNUM + "./", 86, seed)


def apr1_like(seed: str = "apr1") -> str:
    """The shape of an htpasswd ``$apr1$`` (MD5-crypt) hash."""
    return "$" + "apr1$" + chars(_ALNUM, 8, "asalt-" + seed) + "$" + chars(_ALNUM + "./", 22, seed)


def sha1_htpasswd_like(seed: str = "sha") -> str:
    """The shape of an htpasswd ``{SHA}`` hash (base64 of 20 bytes)."""
    import base64

    return "{SHA}" + base64.b64encode(hashlib.sha1(seed.encode()).digest()).decode()
