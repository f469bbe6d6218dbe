"""Fingerprints and the ``.secretkit-allow`` file.

A fingerprint is ``sk2:`` + 32 hex digits of scrypt(value, salt=key, N=2^14, r=8,
p=1): a keyed *and* memory-hard hash.  The key is derived from the repository's root
commit id (the oldest parentless commit reachable from HEAD), so every clone computes
the same fingerprints and the allowlist can be committed, while a fingerprint from
one repository says nothing in another and precomputed tables are useless.

Why scrypt and not a plain HMAC: the root commit id is public once the repository
is, so the key alone does not stop someone holding the repository from testing
guesses of a short value against an entry.  At ~30 ms and 16 MiB per guess, a
six-character random password takes years of CPU time instead of seconds, and
GPUs gain little.  A dictionary word is still found: allowlist only values that are
not secrets (false positives, test fixtures), never a real password.  Outside git
(a source tree without ``.git``, as ``nix flake check`` sees it) the root commit id
is taken from ``SECRETKIT_ROOT_COMMIT`` when set, so the committed allowlist still
applies; otherwise, and before the first commit, a fixed key is used.  Rewriting the root commit
(``purge`` of a secret committed first) changes the key: re-create the allowlist
then.

File format: one fingerprint per line; ``#`` starts a comment; blank lines are
ignored.  ``path:<glob>`` names a file the user vouches for although secretkit
cannot read it (``check`` and the hook then accept it unscanned; its findings are
not hidden).  Unknown lines are ignored (a typo never turns the scanner off).
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

ALLOW_FILE = ".secretkit-allow"
_FIXED = b"secretkit-fingerprint-v1"
_ENTRY = re.compile(r"^\s*(sk2:[0-9a-f]{32})\b")
_PATH_ENTRY = re.compile(r"^\s*path:(\S(?:.*\S)?)\s*$")
PREFIX = "sk2:"


def derive_key(root_commit: str | None) -> bytes:
    if not root_commit:
        return hashlib.sha256(_FIXED).digest()
    return hashlib.sha256(_FIXED + b"\0" + root_commit.encode()).digest()


@functools.lru_cache(maxsize=4096)
def fingerprint(key: bytes, value: str) -> str:
    digest = hashlib.scrypt(
        value.encode("utf-8", "surrogateescape"), salt=key, n=2**14, r=8, p=1, dklen=16
    )
    return PREFIX + digest.hex()


@dataclass
class Allowlist:
    """The allowed fingerprints and the key that makes them.  The key of a git
    repository is derived on first use (one ``git rev-list``), so a scan without
    findings never asks git for it."""

    _key: bytes | None = field(default=None, repr=False)
    allowed: frozenset[str] = frozenset()
    repo: Path | None = None
    paths: frozenset[str] = frozenset()

    @property
    def key(self) -> bytes:
        if self._key is None:
            commit = None
            if self.repo is not None:
                from secretkit.scan.root_commits import root_commits

                roots = root_commits(self.repo)
                commit = roots[0] if roots else None
            self._key = derive_key(commit)
        return self._key

    def fingerprint(self, value: str) -> str:
        return fingerprint(self.key, value)

    def allows(self, fp: str) -> bool:
        return fp in self.allowed

    def allows_unscanned(self, path: str) -> bool:
        """Whether ``path:<glob>`` lines vouch for ``path`` (repo-relative)."""
        import fnmatch

        return any(fnmatch.fnmatchcase(path, glob) for glob in self.paths)


def parse_allow_file(data: str) -> frozenset[str]:
    out = set()
    for line in data.splitlines():
        m = _ENTRY.match(line)
        if m:
            out.add(m.group(1))
    return frozenset(out)


def parse_allowed_paths(data: str) -> frozenset[str]:
    return frozenset(m.group(1) for line in data.splitlines() if (m := _PATH_ENTRY.match(line)))


def load(root: Path, *, git: bool = True) -> Allowlist:
    """The allowlist of the repository (or directory) at ``root``."""
    allowed: frozenset[str] = frozenset()
    paths: frozenset[str] = frozenset()
    file = root / ALLOW_FILE
    if file.is_file():
        text = file.read_text("utf-8", "replace")
        allowed = parse_allow_file(text)
        paths = parse_allowed_paths(text)
    if git:
        return Allowlist(None, allowed, root, paths)
    return Allowlist(derive_key(_root_commit_from_env()), allowed, None, paths)


ROOT_COMMIT_ENV = "SECRETKIT_ROOT_COMMIT"


def _root_commit_from_env() -> str | None:
    import os

    from secretkit.errors import UsageError

    value = os.environ.get(ROOT_COMMIT_ENV, "").strip()
    if not value:
        return None
    if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", value):
        raise UsageError(
            f"{ROOT_COMMIT_ENV} is not a full commit id",
            hint="set it to the output of `git rev-list --max-parents=0 HEAD` in a clone",
        )
    return value
