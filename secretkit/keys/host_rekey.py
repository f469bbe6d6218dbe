"""Carrying out a host plan (:mod:`secretkit.keys.rotation`): the files re-keyed in
memory, then written with the ``.sops.yaml`` edit in one transaction — what
``rotate host`` and ``hosts remove`` both do — and what the old key could read."""

from __future__ import annotations

from dataclasses import dataclass

from secretkit.keys.rotation import Exposure, FileOp, HostPlan
from secretkit.sops.identities import Identities


@dataclass(frozen=True)
class FileResult:
    rel: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    orphan: bool = False


def execute(plan: HostPlan, identities: Identities) -> tuple[FileResult, ...]:
    """Re-key the plan's files in memory, then write them and ``.sops.yaml`` in one
    transaction.  Nothing is written when a file does not open or verify."""
    from secretkit.atomic import Transaction
    from secretkit.keys.rotation import rekey, require_all_opened

    result = rekey(plan.ops, identities)
    require_all_opened(result, identities)
    if plan.edit.data is not None or result.outputs:
        with Transaction(plan.root) as txn:
            if plan.edit.data is not None:
                txn.write(plan.edit.change.path, plan.edit.data)
            for op, data in result.outputs:
                txn.write(op.file.path, data)
    return tuple(_result(op) for op, _ in result.outputs)


def with_history(plan: HostPlan, history: bool) -> tuple[Exposure, ...]:
    """The plan's exposed names, plus those only git history holds when asked."""
    from secretkit.keys.rotation import history_exposures

    if not history or plan.old_recipient is None:
        return plan.exposed
    return plan.exposed + history_exposures(plan.root, plan.old_recipient, plan.exposed)


def _result(op: FileOp) -> FileResult:
    return FileResult(op.file.rel, op.added, op.removed, op.orphan)
