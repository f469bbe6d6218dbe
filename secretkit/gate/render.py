"""``secretkit check`` output: one line per point, then the problems grouped and
counted, most important first, so a repository with hundreds of files still fits
one screen.  ``--format json`` carries every result; this is the summary.

Problems group when they share a point and a ``group`` (the kind of problem, no
path) or, without one, the same fix: a group is shown once with its count, a few
example paths or messages, and one fix.  No line is printed twice.
"""

from __future__ import annotations

from secretkit.gate.model import CheckReport, Group, groups
from secretkit.scan.report import printable

EXAMPLES = 3


def _point_lines(report: CheckReport) -> list[str]:
    ids = list(dict.fromkeys(r.id for r in report.results))
    lines = []
    for check_id in ids:
        mine = [r for r in report.results if r.id == check_id]
        failed = [r for r in mine if not r.ok]
        if failed:
            text = f"{len(failed)} problems" if len(failed) > 1 else failed[0].message
            passed = [r.message for r in mine if r.ok and not r.warning]
            text = "; ".join([text, *dict.fromkeys(passed)])
            lines.append(f"FAIL {check_id}: {_clip(text)}")
        for warning in (r for r in mine if r.warning):  # (on a point that fails too)
            lines.append(f"warn {check_id}: {_clip(warning.message)}")
            if warning.fix:  # (whole, as a group's: a clipped command cannot run)
                lines.append(f"     fix: {warning.fix}")
        if not failed:
            notes = "; ".join(dict.fromkeys(r.message for r in mine if not r.warning))
            if notes:
                lines.append(f"ok   {check_id}: {_clip(notes)}")
    for check_id, why in report.not_run:
        lines.append(f"not run {check_id}: {why}")
    return lines


def _clip(text: str, limit: int = 220) -> str:
    """``text`` on one line, cut after a whole word near ``limit`` (the JSON has it all)."""
    text = printable(text)  # (a path in a message: one line, no terminal control)
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", limit - 60, limit - 1)
    return text[: cut if cut > 0 else limit - 1].rstrip(" ,;:") + " …"


def _group_lines(number: int, group: Group) -> list[str]:
    head = f"{number:>2}. {group.id}: "
    pad = " " * 4
    lines: list[str] = []
    if group.count == 1:  # (where the problem is read: whole, up to a long paragraph)
        lines.append(head + _clip(group.results[0].message, 600))
    elif group.results[0].group:
        paths = group.paths()
        shown = ", ".join(paths[:EXAMPLES])
        more = f" (+{len(paths) - EXAMPLES} more)" if len(paths) > EXAMPLES else ""
        lines.append(head + _clip(f"{group.summary} — {group.count} of them"))
        lines.append(pad + _clip(f"e.g. {shown}{more}", 200))
    else:
        lines.append(head + f"{group.count} problems with the same fix:")
        for r in group.results[:EXAMPLES]:
            lines.append(pad + "- " + _clip(r.message))
        if group.count > EXAMPLES:
            lines.append(pad + f"- … {group.count - EXAMPLES} more (secretkit check --format json)")
    if group.fix:
        lines.append(pad + "fix: " + group.fix)  # (as written: a command must work)
    return lines


def render(report: CheckReport) -> list[str]:
    """The text report: points, then numbered actions, then the verdict."""
    lines = _point_lines(report)
    found = groups(report)
    if found:
        lines.append("")
        lines.append("to do, most important first:")
        # a fix printed before is named by where it was: the item above it need not
        # be that one (wimpysworld/nix-config: item 11 under item 10's different fix)
        seen: dict[str, str] = {line.strip(): "shown in the points above" for line in lines}
        for number, group in enumerate(found, 1):
            for line in _group_lines(number, group):
                key = line.strip()
                if key.startswith("fix:") and key in seen:
                    line = line[: line.index("fix: ")] + f"fix: the same as {seen[key]}"
                seen.setdefault(key, f"item {number}'s")
                lines.append(line)
    failing = len({r.id for r in report.failed})
    points = len({r.id for r in report.results})
    if not report.ok:
        lines.append(
            f"NOT safe to publish: {failing} of {points} points fail "
            f"({len(report.failed)} problem(s) in {len(found)} group(s))"
        )
    elif report.not_run:  # never a verdict over points that did not run
        lines.append(
            "every point a source tree allows passed; not a publish verdict: "
            f"{len(report.not_run)} point(s) not run"
        )
    else:
        warned = sum(1 for r in report.results if r.warning)
        # a warning passes, but the verdict says there is something to read above it
        lines.append(
            f"safe to publish ({warned} warning(s) above)" if warned else "safe to publish"
        )
    return lines
