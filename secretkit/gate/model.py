"""One point's results and the whole report of ``secretkit check``."""

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
        from secretkit.gate.render import groups

        out: dict[str, object] = {
            "version": JSON_VERSION,
            "ok": self.ok,
            "checks": [r.to_json() for r in self.results],
            "groups": [g.to_json() for g in groups(self)],
        }
        if self.not_run:  # only a --source-only run leaves points out
            out["not_run"] = [{"id": i, "reason": why} for i, why in self.not_run]
        return out
