"""``secretkit migrate``: hardcoded Nix secrets → per-host sops files + sops-nix references.

Two steps so that the CLI can show the plan and ask before anything changes:
:func:`prepare` (everything up to the first write, :func:`secretkit.plan.migration.prepare`)
and :func:`apply` (one transaction, :func:`secretkit.plan.migration.apply`), run on
the repository containing the directory given.  :class:`Migration` is the prepared
run as the CLI shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.commands import Line, Shown, err, out, table_lines
from secretkit.plan import migration
from secretkit.plan.migration import Prepared
from secretkit.plan.model import FindingLike
from secretkit.plan.module_top import ANOTHER_PART

if TYPE_CHECKING:
    from secretkit.sops.engine import IdentitySource


@dataclass
class Migration(Prepared, Shown):
    """A prepared run; its lines show the plan."""

    @classmethod
    def of(cls, prepared: Prepared) -> Migration:
        return cls(**{f.name: getattr(prepared, f.name) for f in fields(prepared)})

    @property
    def left(self) -> str:
        """What the summary adds when findings need a change by hand, or the next run
        (a part of a module's mkMerge that this run does not write)."""
        later = sum(1 for refused in self.plan.refused if refused.reason == ANOTHER_PART)
        count = len(self.plan.refused) - later + self.elsewhere  # (not Nix: notes)
        parts = [f"{count} finding(s) above need a change by hand"] if count else []
        if later:
            parts.append(f"{later} move on the next run (secretkit migrate again)")
        return "".join(f"; {part}" for part in parts)

    @property
    def exit_code(self) -> int:
        """3 when nothing moves because no identity here opens the hosts' sops files
        (a missing key, as the refusals above say); else 0."""
        from secretkit.errors import EXIT_USER

        return EXIT_USER if self.plan.empty and self.locked else 0

    @property
    def to_apply(self) -> bool:
        """Whether :func:`apply` has something to do (not empty, not a dry run)."""
        return not self.plan.empty and not self.dry_run

    def lines(self) -> list[Line]:
        plan = self.plan
        shown = [err(refused.message()) for refused in plan.refused]
        if plan.empty:
            shown += [err(note) for note in self.notes]
            return [*shown, out(f"nothing to migrate{self.left}")]
        if self.dry_run:
            shown.append(out(plan.diff(), end=""))
        shown += [out(line) for line in table_lines(plan.table())]
        shown += [out(f"sops-nix: {note}") for note in plan.wiring]
        shown += [err(note) for note in self.notes]  # after the plan: what to do before applying
        if self.dry_run and self.left:
            shown.append(out(self.left.removeprefix("; ")))
        return shown

    @property
    def question(self) -> str:
        return f"Move {len(self.plan.moves)} secret(s) and rewrite the Nix files?"

    def applied(self, written: Sequence[str]) -> list[Line]:
        """The summary after :func:`apply` wrote ``written``, and the new files git does
        not track yet (a flake sees only what git tracks: evaluation would fail)."""
        import shlex

        from secretkit.git.files import ls_files
        from secretkit.git.objects import ignored

        moves = len(self.plan.moves)
        tracked = set(ls_files(self.root, "--cached"))
        new = sorted(p for p in written if p not in tracked)
        if new and ".sops.yaml" not in tracked and (self.root / ".sops.yaml").is_file():
            new.insert(0, ".sops.yaml")  # (init wrote it): a clone needs its rules too
        # a .gitignore of the user's (secrets/.gitignore with `*`) makes a plain `git add`
        # refuse them: -f, and say why, so the printed command works as printed
        hidden = sorted(ignored(self.root, new))
        force = "-f " if hidden else ""
        why = (
            f" (a .gitignore rule excludes {', '.join(hidden)}: `git check-ignore -v` names it)"
            if hidden
            else ""
        )
        if ".sops.yaml" in hidden:  # (nixago, a devshell hook: made again from its source)
            why += (
                "; if a tool generates .sops.yaml, add the keys and rules migrate wrote to "
                "its source, or the next generation drops them"
            )
        names = " ".join(shlex.quote(p) for p in new)
        shown = (
            [out(f"before deploying, let git see the new files: git add {force}{names}{why}")]
            if new
            else []
        )
        moved = self.plan.moved_lines()
        if moved:  # the steps above are followed in the rewritten files
            shown.append(
                err(f"the steps above name lines as they were; this run moved them: {moved}")
            )
        # the summary stays the last line
        return [*shown, out(f"migrated {moves} secret(s); wrote {len(written)} file(s){self.left}")]


def prepare(
    cwd: Path,
    *,
    hosts: Sequence[str] = (),
    dry_run: bool = False,
    also: Sequence[FindingLike] = (),
    without_admin: bool = False,
    identities: IdentitySource = None,
) -> Migration:
    """The plan for the repository containing ``cwd`` (nothing written).
    ``identities``: the keys to use (default: the environment's, loaded once and kept
    for :func:`apply`)."""
    from secretkit.git.repo import find_root

    return Migration.of(
        migration.prepare(
            find_root(cwd),
            hosts=hosts,
            dry_run=dry_run,
            also=also,
            without_admin=without_admin,
            identities=identities,
        )
    )


def apply(prepared: Prepared) -> list[str]:
    """Carry out a prepared plan; the paths written."""
    return migration.apply(prepared)
