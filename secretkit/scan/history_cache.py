"""What a history scan learned, per blob, so the next one reads only new blobs.

Public API::

    detector_version() -> str                    # changes whenever any scanner code does
    HistoryCache.load(root, key) -> HistoryCache  # empty when missing, stale or damaged
    cache.known(oid, path) -> str | None         # "clean" | "skip:<reason>" | "found"
    cache.record_clean(oid, path) / record_skip(oid, path, reason) / record_found(...)
    cache.save()

The file lives in ``<git dir>/secretkit/history-cache`` (never in the work tree, never
pushed).  It holds blob ids, a short hash of the path the blob was scanned under,
rule ids and fingerprints (the keyed scrypt hashes the allowlist uses), and fixed
skip reasons: no secret value and no preview.  A blob with findings is scanned again
each time (findings need their positions and previews), so only clean and skipped
blobs are skipped.  The header key covers the detector code, the allowlist and the
size limit: when any of them changes the whole cache is dropped.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import secretkit

FORMAT = 1
_NAME = "history-cache"


def detector_version() -> str:
    """A digest of the scanner's own code (every module of :mod:`secretkit.scan` and
    the Nix parser it uses) and the package version."""
    base = Path(secretkit.__file__).parent
    digest = hashlib.sha256(secretkit.__version__.encode())
    sources = [*sorted((base / "scan").rglob("*.py")), base / "nix" / "cst.py"]
    for source in sources:
        digest.update(source.relative_to(base).as_posix().encode() + b"\0")
        try:
            digest.update(source.read_bytes())
        except OSError:
            digest.update(b"<unreadable>")
    return digest.hexdigest()[:32]


def cache_key(allowed: frozenset[str], max_bytes: int) -> str:
    digest = hashlib.sha256(detector_version().encode())
    digest.update("\n".join(sorted(allowed)).encode())
    digest.update(str(max_bytes).encode())
    return digest.hexdigest()[:32]


def _path_tag(path: str) -> str:
    return hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()[:12]


def git_dir(root: Path) -> Path | None:
    """The (common) git directory of the repository at ``root``."""
    dot = root / ".git"
    if dot.is_dir():
        return dot
    if dot.is_file():
        text = dot.read_text(encoding="utf-8", errors="replace").strip()
        if text.startswith("gitdir:"):
            gitdir = Path(text.split(":", 1)[1].strip())
            gitdir = gitdir if gitdir.is_absolute() else (root / gitdir).resolve()
            common = gitdir / "commondir"
            if common.is_file():
                rel = common.read_text(encoding="utf-8", errors="replace").strip()
                return (gitdir / rel).resolve()
            return gitdir
    return None


@dataclass
class HistoryCache:
    path: Path | None
    key: str
    entries: dict[str, str] = field(default_factory=dict)  # "oid tag" -> status
    dirty: bool = False

    @classmethod
    def load(cls, root: Path, key: str) -> HistoryCache:
        base = git_dir(root)
        path = base / "secretkit" / _NAME if base is not None else None
        cache = cls(path=path, key=key)
        if path is None:
            return cache
        try:
            with path.open("r", encoding="utf-8") as handle:
                header = json.loads(handle.readline() or "{}")
                if header.get("format") != FORMAT or header.get("key") != key:
                    cache.dirty = True  # stale: rewritten on save
                    return cache
                for line in handle:
                    parts = line.rstrip("\n").split("\t", 2)
                    if len(parts) == 3:
                        cache.entries[f"{parts[0]} {parts[1]}"] = parts[2]
        except (OSError, ValueError, AttributeError):
            cache.entries.clear()
            cache.dirty = True
        return cache

    def known(self, oid: str, path: str) -> str | None:
        status = self.entries.get(f"{oid} {_path_tag(path)}")
        if status is None:
            return None
        if status == "-":
            return "clean"
        if status.startswith("s:"):
            return "skip:" + status[2:]
        return "found"

    def _set(self, oid: str, path: str, status: str) -> None:
        item = f"{oid} {_path_tag(path)}"
        if self.entries.get(item) != status:
            self.entries[item] = status
            self.dirty = True

    def record_clean(self, oid: str, path: str) -> None:
        self._set(oid, path, "-")

    def record_skip(self, oid: str, path: str, reason: str) -> None:
        self._set(oid, path, "s:" + " ".join(reason.split()))

    def record_found(self, oid: str, path: str, hits: list[tuple[str, str]]) -> None:
        """``hits`` are (rule id, fingerprint) pairs — never values."""
        self._set(oid, path, "f:" + json.dumps(sorted(set(hits)), separators=(",", ":")))

    def save(self) -> None:
        """Write the cache atomically; a failure to write only costs speed next time."""
        if self.path is None or not self.dirty:
            return
        from secretkit.atomic import write_atomic

        lines = [json.dumps({"format": FORMAT, "key": self.key})]
        for item, status in sorted(self.entries.items()):
            oid, tag = item.split(" ", 1)
            lines.append(f"{oid}\t{tag}\t{status}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, ("\n".join(lines) + "\n").encode("utf-8"), mode=0o600)
        except OSError:
            return
        self.dirty = False
