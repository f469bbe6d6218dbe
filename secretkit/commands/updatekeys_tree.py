"""``secretkit updatekeys`` without FILE: the whole repository in line with ``.sops.yaml``.

Every sops file below the ``.sops.yaml`` directory — git-tracked or untracked but
not ignored, recognised by its sops metadata rather than its name — is checked
against the first creation rule matching it.  A file whose recipients differ is
re-wrapped like ``sops updatekeys`` (same data key; values, MAC and
``lastmodified`` unchanged); the others are reported "up to date", and a sops
file that no rule matches is reported and left alone.

All files that change are re-wrapped in memory first (a file no available
identity opens stops the run before anything is written, naming the files), then
written in one :class:`~secretkit.atomic.Transaction`.

Re-wrapping keeps the data key, so a removed recipient that saw an old version
can still read the values: :attr:`TreeUpdate.removed_any` tells the caller to
suggest ``rotate data-keys`` / ``rotate host``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from secretkit.sops.identities import Identities


@dataclass(frozen=True)
class TreeRow:
    rel: str
    status: str  # "updated" | "up to date" | "no rule"
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class TreeUpdate:
    config: Path
    rows: tuple[TreeRow, ...]

    @property
    def updated(self) -> tuple[TreeRow, ...]:
        return tuple(row for row in self.rows if row.status == "updated")

    @property
    def removed_any(self) -> bool:
        return any(row.removed for row in self.rows)


def updatekeys_tree(cwd: Path, *, identities: Identities | None = None) -> TreeUpdate:
    from secretkit.atomic import Transaction, recover
    from secretkit.errors import UserError
    from secretkit.keys.rotation import plan_updatekeys, rekey, require_all_opened, sops_file_infos
    from secretkit.keys.sops_yaml import find_root
    from secretkit.sops import operations
    from secretkit.sops.identities import load_identities

    root = find_root(cwd)
    recover(root)  # roll back an interrupted run before reading .sops.yaml or any file
    config = operations.config_for(cwd)
    base = config.path.parent
    files = sops_file_infos(base, config=config)  # a damaged sops file stops the run
    if not files:
        raise UserError(
            f"no sops files found below {base}",
            hint="create one with `secretkit set` / `secretkit migrate`, or name the files",
        )
    ops = plan_updatekeys(config, files)
    changing = [op for op in ops if op.action == "updatekeys"]
    written: set[str] = set()
    if changing:
        if identities is None:
            identities = load_identities()
        result = rekey(changing, identities)
        require_all_opened(result, identities)
        with Transaction(root) as txn:
            for op, data in result.outputs:
                txn.write(op.file.path, data)
                written.add(op.file.rel)
    rows = []
    for op in ops:
        if op.action == "updatekeys":
            status = "updated" if op.file.rel in written else "up to date"
            rows.append(TreeRow(op.file.rel, status, op.added, op.removed))
        else:
            rows.append(TreeRow(op.file.rel, op.action))
    return TreeUpdate(config.path, tuple(rows))
