"""``secretkit migrate``: hardcoded Nix secrets → per-host sops files + sops-nix references.

Two steps so that the CLI can show the plan and ask before anything changes:
:func:`prepare` (everything up to the first write, :func:`secretkit.plan.migration.prepare`)
and :func:`apply` (one transaction, :func:`secretkit.plan.migration.apply`), run on
the repository containing the directory given.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from secretkit.plan import migration
from secretkit.plan.build import FindingLike
from secretkit.plan.migration import Prepared


def prepare(
    cwd: Path,
    *,
    hosts: Sequence[str] = (),
    dry_run: bool = False,
    also: Sequence[FindingLike] = (),
    without_admin: bool = False,
) -> Prepared:
    """The plan for the repository containing ``cwd`` (nothing written)."""
    from secretkit.keys.sops_yaml import find_root

    return migration.prepare(
        find_root(cwd), hosts=hosts, dry_run=dry_run, also=also, without_admin=without_admin
    )


def apply(prepared: Prepared) -> list[str]:
    """Carry out a prepared plan; the paths written."""
    return migration.apply(prepared)
