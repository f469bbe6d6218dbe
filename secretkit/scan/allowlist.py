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

Fingerprints already computed in a clone are kept in ``<git dir>/secretkit/fingerprints``
(:class:`FingerprintCache`), so that the hook showing the same finding again, or
checking the same allowlisted value again, does not pay the scrypt again.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re  # (hashlib is imported where used: it loads OpenSSL, ~3 ms of a hook)
from dataclasses import dataclass, field
from pathlib import Path

from secretkit.lazy_re import lazy

ALLOW_FILE = ".secretkit-allow"
_FIXED = b"secretkit-fingerprint-v1"
_ENTRY = lazy(r"^\s*(sk2:[0-9a-f]{32})\b")
_PATH_ENTRY = lazy(r"^\s*path:(\S(?:.*\S)?)\s*$")
PREFIX = "sk2:"


def derive_key(root_commit: str | None) -> bytes:
    import hashlib

    if not root_commit:
        return hashlib.sha256(_FIXED).digest()
    return hashlib.sha256(_FIXED + b"\0" + root_commit.encode()).digest()


@functools.lru_cache(maxsize=4096)
def fingerprint(key: bytes, value: str) -> str:
    from secretkit.scan.scrypt import scrypt

    digest = scrypt(value.encode("utf-8", "surrogateescape"), key, 2**14, 8, 1, 16)
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
    # the fingerprints remembered in the clone: loaded on the first fingerprint asked
    _cache: FingerprintCache | None = field(default=None, repr=False, compare=False)
    _rootless: bool = field(default=False, repr=False, compare=False)

    @property
    def key(self) -> bytes:
        if self._key is None:
            commit = None
            if self.repo is not None:
                from secretkit.scan.root_commits import root_commits

                roots = root_commits(self.repo)
                commit = roots[0] if roots else None
            self._key = derive_key(commit)
            self._rootless = self.repo is not None and commit is None
        return self._key

    @property
    def before_first_commit(self) -> bool:
        """Whether this is a git repository without a commit yet: its fingerprints are
        made with a stand-in key that its first commit replaces (they will not last)."""
        _ = self.key
        return self._rootless

    def identity(self) -> bytes:
        """What decides which values the entries allow: the entries and, when there
        are any, the key they are made with (HEAD's root commit: on another root they
        allow nothing)."""
        if not self.allowed:
            return b""
        return "\n".join(sorted(self.allowed)).encode() + b"\0" + self.key

    def prepare(self) -> None:
        """Everything a fingerprint needs before its scrypt: the key (one git run), the
        clone's cache and the scrypt's library (libsodium, else OpenSSL).  The hook does
        this before it hands the scrypts to a thread, which then goes straight to them
        instead of waiting its turn for the interpreter while the main thread works
        (issue 15)."""
        from secretkit.scan.scrypt import libsodium

        libsodium()  # (opened once: ~2 ms with ctypes)
        self._local_cache(self.key)

    def fingerprint(self, value: str) -> str:
        """The fingerprint of ``value``: from this process, from the clone's cache, or
        computed (scrypt) and remembered for :meth:`save_fingerprints`."""
        key = self.key
        cache = self._local_cache(key)
        if cache is None:
            return fingerprint(key, value)
        known = cache.get(value)
        if known is not None:
            return known
        computed = fingerprint(key, value)
        cache.put(value, computed)
        return computed

    def save_fingerprints(self) -> None:
        """Write the fingerprints computed here to the clone's cache (when there are new
        ones; a failure to write only costs the scrypt next time)."""
        if self._cache is not None:
            self._cache.save()

    def _local_cache(self, key: bytes) -> FingerprintCache | None:
        if self.repo is None:
            return None
        if self._cache is None or self._cache.key != key:
            from secretkit.git import git_dir

            base = git_dir(self.repo)
            if base is None:
                return None
            self._cache = FingerprintCache.load(base / "secretkit" / CACHE_NAME, key)
        return self._cache

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


def load(root: Path, *, git: bool = True, text: str | None = None) -> Allowlist:
    """The allowlist of the repository (or directory) at ``root``; ``text``: the
    allowlist file's content to read instead of the work tree's (the hook's: what the
    index holds, the file as it will be committed)."""
    allowed: frozenset[str] = frozenset()
    paths: frozenset[str] = frozenset()
    file = root / ALLOW_FILE
    if text is None and file.is_file():
        text = file.read_text("utf-8", "replace")
    if text:
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


CACHE_NAME = "fingerprints"


def forget_fingerprints(root: Path) -> None:
    """Delete the clone's fingerprint cache (``purge``: the values it could confirm a
    guess of are leaving the history)."""
    from secretkit.git import git_dir

    base = git_dir(root)
    if base is not None:
        (base / "secretkit" / CACHE_NAME).unlink(missing_ok=True)


CACHE_MAX = 2048  # entries kept, the most recently used
_CACHE_HEADER = "secretkit fingerprint cache 1"
_CACHE_ENTRY = lazy(r"^([0-9a-f]{32}) (sk2:[0-9a-f]{32})$")


def _key_tag(key: bytes) -> str:
    """Which fingerprint key the entries were made with (the key is public: it comes
    from the root commit id)."""
    import hashlib

    return hashlib.blake2b(key, digest_size=16, person=b"sk-fp-cache-key").hexdigest()


@dataclass
class FingerprintCache:
    """Fingerprints this clone computed before: ``<git dir>/secretkit/fingerprints``.

    A fingerprint costs about 35 ms of CPU and 16 MiB (scrypt); the hook shows the
    same finding at every attempt, and checks an allowlisted value at every commit
    that touches its file.  An entry is looked up by a keyed BLAKE2b of the value
    under a random secret of this cache: the file holds fingerprints (as public as a
    committed allowlist), that secret and those lookup ids, never a value or a
    preview.  It stays in the git directory (never in the work tree, never pushed),
    mode 0600, replaced by a rename.  With the file, a guess of a value can be tested
    at BLAKE2b speed instead of scrypt's: the same reader also has the git objects,
    which hold the values themselves until they are pruned (``purge`` deletes this
    file with the history it rewrites: :func:`forget_fingerprints`).  The entries are for
    one fingerprint key: when the key changes (a rewritten root commit) the whole
    cache is dropped, secret included.
    """

    file: Path
    key: bytes = field(repr=False)
    secret: bytes = field(repr=False)
    entries: dict[str, str] = field(default_factory=dict, repr=False)  # id → fingerprint
    dirty: bool = False

    @classmethod
    def load(cls, file: Path, key: bytes) -> FingerprintCache:
        """The cache at ``file`` for ``key``; an empty one (with a new secret) when the
        file is missing, damaged or made for another key."""
        try:
            lines = file.read_text(encoding="ascii").splitlines()
        except (OSError, UnicodeDecodeError):
            lines = []
        loaded = _parse_cache(lines, key)
        if loaded is None:
            if lines:  # another key's entries (or a damaged file): gone now, not at the next save
                with contextlib.suppress(OSError):
                    file.unlink()

            return cls(file, key, os.urandom(32))  # (what secrets.token_bytes reads)
        secret, entries = loaded
        return cls(file, key, secret, entries)

    def _id(self, value: str) -> str:
        import hashlib

        data = value.encode("utf-8", "surrogateescape")
        digest = hashlib.blake2b(data, digest_size=16, key=self.secret, person=b"sk-fp-cache")
        return digest.hexdigest()

    def get(self, value: str) -> str | None:
        ident = self._id(value)
        found = self.entries.pop(ident, None)
        if found is not None:
            self.entries[ident] = found  # the most recently used last
        return found

    def put(self, value: str, fp: str) -> None:
        ident = self._id(value)
        self.entries.pop(ident, None)
        self.entries[ident] = fp
        self.dirty = True

    def save(self) -> None:
        """Write the cache if it holds new entries (the oldest beyond
        :data:`CACHE_MAX` dropped); an unwritable git directory is not an error."""
        if not self.dirty:
            return
        kept = list(self.entries.items())[-CACHE_MAX:]
        text = "".join(
            [
                f"{_CACHE_HEADER}\nkey {_key_tag(self.key)}\nsecret {self.secret.hex()}\n",
                *(f"{ident} {fp}\n" for ident, fp in kept),
            ]
        )
        try:
            self.file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _replace_private(self.file, text.encode("ascii"))
        except OSError:
            return
        self.dirty = False


def _replace_private(file: Path, data: bytes) -> None:
    """Replace ``file`` with ``data``, mode 0600, by a rename: a reader sees the old file
    or the new one, never a part.  Not synced to disk (``secretkit.atomic`` costs an
    fsync and ~10 ms of imports on the hook's path): after a crash the cache may be
    gone or empty, which only costs the scrypt again."""
    import os

    tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()  # left by a killed run whose process id this one has now
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)  # whatever the umask
            handle.write(data)
        os.replace(tmp, file)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _parse_cache(lines: list[str], key: bytes) -> tuple[bytes, dict[str, str]] | None:
    """``(secret, entries)`` of a cache file's lines made for ``key``, else None."""
    if len(lines) < 3 or lines[0] != _CACHE_HEADER or lines[1] != f"key {_key_tag(key)}":
        return None
    m = re.fullmatch(r"secret ([0-9a-f]{64})", lines[2])
    if m is None:
        return None
    secret = m.group(1)
    entries: dict[str, str] = {}
    for line in lines[3:]:
        m = _CACHE_ENTRY.match(line)
        if m is None:
            return None
        entries[m.group(1)] = m.group(2)
    return bytes.fromhex(secret), entries
