"""One point's results, the whole report of ``secretkit check``, and its failures
grouped (what the text and the JSON output both show)."""

from __future__ import annotations

from dataclasses import dataclass, field

JSON_VERSION = 1


@dataclass(frozen=True)
class CheckResult:
    """One point of the gate: passed, or one problem with its fix.

    ``group`` names the kind of problem without the file it is about, and
    ``group_fix`` is a fix that works for every problem of that kind at once: results
    sharing both are shown as one line with a count and a few example paths."""

    id: str
    ok: bool
    message: str
    fix: str = ""
    paths: tuple[str, ...] = ()
    group: str = ""
    group_fix: str = ""
    warning: bool = False  # passes, but the user should know (a published password hash)

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "ok": self.ok,
            "message": self.message,
            "fix": self.fix,
            "paths": list(self.paths),
            "group": self.group or None,
            "warning": self.warning,
        }


@dataclass
class CheckReport:
    results: list[CheckResult]
    # (id, why) of the points a --source-only run leaves out
    not_run: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if not r.ok]

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "version": JSON_VERSION,
            "ok": self.ok,
            "checks": [r.to_json() for r in self.results],
            "groups": [g.to_json() for g in groups(self)],
        }
        if self.not_run:  # only a --source-only run leaves points out
            out["not_run"] = [{"id": i, "reason": why} for i, why in self.not_run]
        return out


# Which failures to act on first: a secret readable by anyone now, then one that was
# readable, then hosts that cannot boot with their secrets, then bookkeeping.
IMPORTANCE = (
    "plaintext-tree",
    "decrypted-copy",
    "plaintext-history",
    "host-readable",
    "service-readable",
    "sops-nix-module",
    "nix-secret-refs",
    "sops-recipients",
    "agenix",
    "sops-mac",
)


@dataclass
class Group:
    id: str
    summary: str  # the group text, or the message of a lone result
    fix: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.results)

    def paths(self) -> list[str]:
        """The files of the group: each result's first (the file its problem is in), or
        every one a lone result names (one result about 33 files lists 33)."""
        if len(self.results) == 1:
            return list(dict.fromkeys(self.results[0].paths))
        return list(dict.fromkeys(p for r in self.results for p in r.paths[:1]))

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "summary": self.summary,
            "count": self.count,
            "fix": self.fix,
            "paths": self.paths(),
        }


def _rank(check_id: str) -> int:
    return IMPORTANCE.index(check_id) if check_id in IMPORTANCE else 1  # new points: early


def groups(report: CheckReport) -> list[Group]:
    """The failures grouped, most important point first (stable within a point)."""
    out: dict[tuple[str, str, str], Group] = {}
    for r in report.failed:
        if r.group:
            key = (r.id, r.group, r.group_fix or r.fix)
            summary, fix = r.group, r.group_fix or r.fix
        else:
            key = (r.id, "", r.fix)
            summary, fix = r.message, r.fix
        group = out.setdefault(key, Group(r.id, summary, fix))
        group.results.append(r)
    for group in out.values():
        if group.count == 1:
            group.fix = group.results[0].fix  # its own fix is the most precise
    ordered = list(out.values())
    ordered.sort(key=lambda g: _rank(g.id))  # sort is stable: first-seen order within a point
    return ordered
