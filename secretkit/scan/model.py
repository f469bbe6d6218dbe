"""Findings, skips and reports: the values the scanner hands out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from secretkit.sensitive import Sensitive

if TYPE_CHECKING:
    from secretkit.scan.allowlist import Allowlist

SEVERITIES = ("high", "medium", "low")

# The keys of one finding in `scan --format json`, in order (DESIGN.md).
JSON_KEYS = (
    "path",
    "line",
    "column",
    "end_line",
    "end_column",
    "rule",
    "kind",
    "severity",
    "attrpath",
    "commit",
    "fingerprint",
    "preview",
)


@dataclass(frozen=True)
class Finding:
    """One secret at one place.  ``start``/``end`` are the byte span of the value in
    the file (for span edits); ``secret`` is never serialized.  The fingerprint
    (scrypt, ~30 ms and 16 MiB) is computed on first use, once per distinct value
    (:func:`secretkit.scan.allowlist.fingerprint` caches it): a scan whose output
    shows none pays for none."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    rule: str
    kind: str
    severity: str
    attrpath: str | None
    commit: str | None
    preview: str
    start: int
    end: int
    secret: Sensitive[str] = field(repr=False, compare=False)
    keyring: Allowlist | None = field(default=None, repr=False, compare=False)
    # Where the value is besides the file's own bytes: "archive" (a member of a
    # compressed file or archive; ``path`` is ``archive!member``), "lfs" (the Git LFS
    # object the file's pointer names), "binary" (a file with a NUL byte in its first
    # 8 KiB, which git-filter-repo's --replace-text passes over); none of them can be
    # edited in place or purged.
    inside: str = field(default="", compare=False)

    @property
    def file(self) -> str:
        """The repository's file that holds the value (an archive's own path)."""
        from secretkit.scan.archives import SEP

        return self.path.split(SEP, 1)[0] if self.inside == "archive" else self.path

    @property
    def fingerprint(self) -> str:
        """``sk2:…`` of the value, keyed by the repository (``keyring``)."""
        from secretkit.scan.allowlist import Allowlist

        return (self.keyring or Allowlist()).fingerprint(self.secret.reveal())

    def to_json(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in JSON_KEYS}


@dataclass(frozen=True)
class Skipped:
    """A file that was not scanned, and why (binary, too large, undecodable, …)."""

    path: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "reason": self.reason}


@dataclass
class ScanReport:
    """What a scan found and skipped, with its counts."""

    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=lambda: {"files": 0, "bytes": 0, "seconds": 0.0})
    root: str = ""  # what was scanned (the text report names it; not in the JSON shape)

    def to_json(self) -> dict[str, Any]:
        fingerprint_all(self.findings)
        return {
            "version": 1,
            "findings": [f.to_json() for f in self.findings],
            "skipped": [s.to_json() for s in self.skipped],
            "stats": {
                "files": int(self.stats.get("files", 0)),
                "bytes": int(self.stats.get("bytes", 0)),
                "seconds": round(float(self.stats.get("seconds", 0.0)), 3),
                # history: of those files, how many an earlier run's cache vouched for
                # (their bytes were not read again, so "bytes" leaves them out)
                **({"cached": int(self.stats["cached"])} if "cached" in self.stats else {}),
            },
        }


def fingerprint_all(findings: list[Finding]) -> None:
    """Compute the fingerprints ``findings`` will show, one per distinct value: the
    first alone (it sets up the repository's key and the clone's cache), the rest on
    every core at once (scrypt releases the GIL), so that an output of many findings
    waits for the slowest value, not for their sum."""
    import os

    distinct = list({(id(f.keyring), f.secret.reveal()): f for f in findings}.values())
    if not distinct:
        return
    distinct[0].fingerprint  # noqa: B018 (fills the caches)
    rest = distinct[1:]
    workers = min(len(rest), os.cpu_count() or 1)
    if workers < 2:
        for finding in rest:
            finding.fingerprint  # noqa: B018
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(lambda f: f.fingerprint, rest):
            pass
