"""``secretkit updatekeys [FILE…]``: re-wrap data keys for the recipients the rules now name.

For each file: the same data key, wrapped for the recipients of the first matching
``.sops.yaml`` creation rule; values, MAC and ``lastmodified`` are unchanged; a
file whose recipients already match is reported "already up to date".  Without
FILE arguments every sops file below the ``.sops.yaml`` directory that a rule
matches is processed (found by :mod:`secretkit.sops.finder`: the files git would
publish; a damaged one stops the run).  All writes happen in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class KeyUpdate:
    path: Path
    status: str  # "updated" | "up to date"


def _targets(cwd: Path, files: Sequence[Path | str]) -> tuple[Path, list[Path]]:
    """The transaction root and the files to process.

    An interrupted earlier transaction is rolled back first: it may have rewritten
    ``.sops.yaml`` and some files, and reading those half-done versions would mix
    the two runs (the rollback of our own Transaction would come too late)."""
    from secretkit.commands import recover_interrupted
    from secretkit.sops import operations
    from secretkit.sops.finder import named_or_every

    root = recover_interrupted(cwd)
    return root, named_or_every(cwd, operations.config_for(cwd), files)


def updatekeys(
    cwd: Path, files: Sequence[Path | str] = (), *, engine: str = "python"
) -> list[KeyUpdate]:
    from secretkit.atomic import Transaction
    from secretkit.sops import document, operations
    from secretkit.sops.identities import load_identities

    root, paths = _targets(cwd, files)
    if engine == "sops":
        from secretkit.sops.backend_binary import SopsBinary

        binary = SopsBinary(cwd)
        for path in paths:
            binary.updatekeys(path)
        return [KeyUpdate(path, "updated") for path in paths]
    identities = load_identities()
    results: list[KeyUpdate] = []
    pending: list[tuple[Path, bytes]] = []
    for path in paths:
        rule = operations.rule_for_file(cwd, path)
        data = operations.read_input(path)
        new = operations.updatekeys_bytes(
            data,
            document.format_for_path(path),
            rule,
            identities,
            source=operations.display(cwd, path),
        )
        if new is None:
            results.append(KeyUpdate(path, "up to date"))
        else:
            pending.append((path, new))
            results.append(KeyUpdate(path, "updated"))
    if pending:
        with Transaction(root) as txn:
            for path, new in pending:
                txn.write(path, new)
    return results
