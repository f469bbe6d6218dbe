"""One point's results and the whole report of ``secretkit check``."""

from __future__ import annotations

from dataclasses import dataclass

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

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "ok": self.ok,
            "message": self.message,
            "fix": self.fix,
            "paths": list(self.paths),
            "group": self.group or None,
        }


@dataclass
class CheckReport:
    results: list[CheckResult]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if not r.ok]

    def to_json(self) -> dict[str, object]:
        from secretkit.gate.render import groups

        return {
            "version": JSON_VERSION,
            "ok": self.ok,
            "checks": [r.to_json() for r in self.results],
            "groups": [g.to_json() for g in groups(self)],
        }
