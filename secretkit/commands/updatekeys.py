"""``secretkit updatekeys [FILE…]``: re-wrap data keys for the recipients the rules now name.

For each file: the same data key, wrapped for the recipients of the first matching
``.sops.yaml`` creation rule; values, MAC and ``lastmodified`` are unchanged; a
file whose recipients already match is reported "already up to date".  All writes
happen in one transaction.

Without FILE, with an engine that knows recipients (the built-in one):
``secretkit updatekeys`` without FILE: the whole repository in line with ``.sops.yaml``.

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

Without FILE and the sops binary: every sops file below the ``.sops.yaml``
directory that a rule matches (found by :mod:`secretkit.sops.finder`: the files
git would publish; a damaged one stops the run), one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from secretkit.commands import Line, Shown, err, out, shown_path
from secretkit.sops.engine import Engine, LazyIdentities, PythonEngine
from secretkit.sops.identities import Identities


@dataclass(frozen=True)
class KeyUpdate:
    path: Path
    status: str  # "updated" | "up to date"


@dataclass(frozen=True)
class KeyUpdates(Shown):
    cwd: Path
    files: tuple[KeyUpdate, ...]

    def lines(self) -> list[Line]:
        return [
            out(
                f"{shown_path(self.cwd, item.path)}: "
                f"{'updated' if item.status == 'updated' else 'already up to date'}"
            )
            for item in self.files
        ]


def updatekeys(
    cwd: Path, files: Sequence[Path | str] = (), *, engine: Engine | None = None
) -> KeyUpdates | TreeUpdate:
    """FILE… (or, without FILE, the whole tree) in line with ``.sops.yaml``."""
    from secretkit.commands import sops_targets

    engine = engine or PythonEngine(cwd)
    if not files and engine.knows_recipients:
        return updatekeys_tree(cwd, identities=engine.identities)
    root, paths = sops_targets(cwd, files)
    changed = engine.updatekeys(root, paths)
    return KeyUpdates(
        cwd,
        tuple(
            KeyUpdate(path, "updated" if c else "up to date")
            for path, c in zip(paths, changed, strict=True)
        ),
    )


@dataclass(frozen=True)
class TreeRow:
    rel: str
    status: str  # "updated" | "up to date" | "no rule" | "clan"
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class TreeUpdate(Shown):
    config: Path
    rows: tuple[TreeRow, ...]

    def lines(self) -> list[Line]:
        messages = {
            "updated": "updated",
            "up to date": "already up to date",
            "clan": "managed by clan (its recipients are its sops/ links), left alone",
        }
        shown = [
            out(f"{row.rel}: {messages.get(row.status, 'no creation rule matches, left alone')}")
            for row in self.rows
        ]
        for row in self.updated:
            changes = [f"+{r}" for r in row.added] + [f"-{r}" for r in row.removed]
            shown.append(err(f"  {row.rel}: {' '.join(changes)}"))
        up_to_date = sum(1 for row in self.rows if row.status == "up to date")
        shown.append(err(f"{len(self.updated)} file(s) updated, {up_to_date} already up to date"))
        if any(row.status == "clan" for row in self.rows):
            shown.append(
                err(
                    "note: clan re-encrypts its own files when their links change: clan vars "
                    "fix <machine> for vars, clan secrets machines add-secret for secrets"
                )
            )
        if self.removed_any:
            shown.append(
                err(
                    "note: removed recipients may still hold the unchanged data keys; "
                    "lock them out with `secretkit rotate data-keys` (or `rotate host`)"
                )
            )
        return shown

    @property
    def updated(self) -> tuple[TreeRow, ...]:
        return tuple(row for row in self.rows if row.status == "updated")

    @property
    def removed_any(self) -> bool:
        return any(row.removed for row in self.rows)


def updatekeys_tree(cwd: Path, *, identities: Callable[[], Identities] | None = None) -> TreeUpdate:
    from secretkit.atomic import Transaction, recover
    from secretkit.errors import UserError
    from secretkit.git.repo import find_root
    from secretkit.keys.rotation import plan_updatekeys, rekey, require_all_opened, sops_file_infos
    from secretkit.layouts.clan import is_clan_secret
    from secretkit.sops import operations

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
        held = (identities or LazyIdentities())()
        result = rekey(changing, held)
        require_all_opened(result, held)
        with Transaction(root) as txn:
            for op, data in result.outputs:
                txn.write(op.file.path, data)
                written.add(op.file.rel)
    rows = []
    for op in ops:
        if op.action == "updatekeys":
            status = "updated" if op.file.rel in written else "up to date"
            rows.append(TreeRow(op.file.rel, status, op.added, op.removed))
        elif is_clan_secret(op.file.rel) and (root / "sops").is_dir():
            rows.append(TreeRow(op.file.rel, "clan"))  # (recipients: its links, clan's own)
        else:
            rows.append(TreeRow(op.file.rel, op.action))
    return TreeUpdate(config.path, tuple(rows))
