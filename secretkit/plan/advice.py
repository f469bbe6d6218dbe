"""Would ``migrate`` move this finding?  The planner's own decision, for one file.

Hook and check messages suggest ``secretkit migrate`` only for a finding the
planner accepts; for the others they name the manual route.  The decision is
:func:`secretkit.plan.build.build_plan` run on the one file, with one stand-in
host (which hosts import a module does not change whether a literal can move).
"""

from __future__ import annotations

from typing import Any

from secretkit.plan.build import FindingLike, build_plan


def migrate_refusal(path: str, source: bytes, finding: FindingLike) -> str | None:
    """None when ``migrate`` would move ``finding`` (in ``path`` holding ``source``),
    else the reason it gives for refusing."""
    from secretkit.errors import SecretkitError
    from secretkit.nix import cst

    if not path.endswith(".nix"):
        return "not a Nix file"

    def literal_of(tree: Any, node: Any) -> str:
        return cst.string_at(tree, node).value

    try:
        plan = build_plan(
            {path: source}, [finding], lambda _p: ("host",), parse=cst.parse, literal_of=literal_of
        )
    except SecretkitError as exc:
        return exc.message
    if plan.refused:
        return plan.refused[0].reason
    return None if plan.moves else "the planner found nothing to move"
