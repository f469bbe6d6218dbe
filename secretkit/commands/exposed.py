"""``secretkit exposed``: every value ever committed in plaintext, as a rotation checklist.

History is scanned (every ref, and the backups a ``purge`` kept of the history it
rewrote), each distinct value once.  For each value the current state says where
it is used now and whether it has been replaced since:

* ``plaintext`` — still in a file of the work tree (``path:line``);
* ``not rotated`` — moved into a sops file but unchanged (``file: name``): it was
  public, so change it at its provider and store the new one (``rotate value``);
* ``replaced`` — found in no file of the tree and no sops file;
* ``unknown`` — some sops file could not be opened, so it may still be there
  (never reported as replaced without reading everything).

Values are compared in memory; nothing here prints or returns one (previews are
at most 4 characters).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.commands import Line, Shown, err, out
from secretkit.sensitive import Sensitive

if TYPE_CHECKING:
    from secretkit.sops.engine import IdentitySource

Progress = Callable[[int, int], None]


@dataclass
class ExposedValue:
    names: list[str]  # attribute paths, else rule names
    rules: list[str]
    paths: list[str]  # where history held it
    commits: int
    preview: str
    in_backup_only: bool  # only purge's backup refs still hold it
    secret: Sensitive[str] = field(repr=False)
    plaintext: list[str] = field(default_factory=list)  # 'path:line' in the work tree
    stored: list[str] = field(default_factory=list)  # 'secrets/x.yaml: a/b/c'
    status: str = "replaced"

    def to_json(self) -> dict[str, object]:
        return {
            "names": self.names,
            "rules": self.rules,
            "paths": self.paths,
            "commits": self.commits,
            "preview": self.preview,
            "only_in_purge_backup": self.in_backup_only,
            "status": self.status,
            "plaintext": self.plaintext,
            "stored": self.stored,
        }


@dataclass
class ExposedReport(Shown):
    values: list[ExposedValue]
    unchecked: list[str]  # sops files no available identity opens
    # '<commit>:<path> (why)' of blobs the history holds but git could not give: the
    # values in them are not on the list (never a "nothing was committed" then)
    unread: list[str] = field(default_factory=list)

    @property
    def to_rotate(self) -> list[ExposedValue]:
        return [v for v in self.values if v.status != "replaced"]

    @property
    def exit_code(self) -> int:
        return 1 if self.to_rotate or self.unread else 0

    def lines(self) -> list[Line]:
        if not self.values and not self.unread:
            return [
                out("no value was ever committed in plaintext (history and purge backups scanned)")
            ]
        shown = (
            [out(f"{len(self.values)} value(s) were committed in plaintext; rotate each one:")]
            if self.values
            else [out("no value found in plaintext in the blobs that could be read")]
        )
        for item in self.values:
            where = "only in purge's backup refs" if item.in_backup_only else ", ".join(item.paths)
            shown.append(
                out(f"  [{item.status}] {', '.join(item.names)} ({item.preview}) — was in {where}")
            )
            shown += [out(f"      still in plaintext: {place}") for place in item.plaintext]
            for place in item.stored:
                name = place.split(": ")[1].split(" ")[0]
                shown.append(out(f"      unchanged in {place}"))
                how = f"secretkit rotate value {name} --from-stdin (or --kind …)"
                shown.append(out(f"        new value: {how}"))
        shown += [
            err(f"note: no identity opens {rel}; values in it could not be compared")
            for rel in self.unchecked
        ]
        if self.unread:
            listed = "; ".join(self.unread[:3])
            more = f" and {len(self.unread) - 3} more" if len(self.unread) > 3 else ""
            shown.append(
                err(
                    f"cannot list everything: {len(self.unread)} blob(s) of the history could "
                    f"not be read ({listed}{more}); values in them are not above. fix: fetch "
                    "them (git fetch --refetch, or clone again) and run secretkit exposed again"
                )
            )
        return shown

    def to_json(self) -> dict[str, object]:
        return {
            "version": 1,
            "exposed": [v.to_json() for v in self.values],
            "unchecked": self.unchecked,
            "unread": self.unread,
        }


def _history(root: Path, progress: Progress | None, unread: list[str]) -> dict[str, ExposedValue]:
    """The values history held, by fingerprint; the blobs git could not give are
    added to ``unread``."""
    from secretkit.git.backups import backup_blobs
    from secretkit.git.objects import read_blobs
    from secretkit.scan import allowlist
    from secretkit.scan.history import scan_history
    from secretkit.scan.many_files import MISSING_BLOB
    from secretkit.scan.one_file import scan_bytes

    scanned = scan_history(root, progress=progress)
    findings = [(f, False) for f in scanned.findings]
    unread += [f"{s.path} ({s.reason})" for s in scanned.skipped]
    blobs = {b.oid: b for b in backup_blobs(root)}
    allow = allowlist.load(root)
    read: set[str] = set()
    for oid, data in read_blobs(root, blobs):
        read.add(oid)
        found, _ = scan_bytes(blobs[oid].path, data, allow=allow, commit=blobs[oid].commit)
        findings.extend((f, True) for f in found)
    unread += [
        f"{b.commit}:{b.path} ({MISSING_BLOB})" for oid, b in blobs.items() if oid not in read
    ]
    out: dict[str, ExposedValue] = {}
    for finding, backup in findings:
        item = out.get(finding.fingerprint)
        if item is None:
            item = out[finding.fingerprint] = ExposedValue(
                [], [], [], 0, finding.preview, backup, finding.secret
            )
        item.in_backup_only = item.in_backup_only and backup
        for target, value in (
            (item.names, finding.attrpath or finding.rule),
            (item.rules, finding.rule),
            (item.paths, finding.path),
        ):
            if value not in target:
                target.append(value)
        item.commits += 1
    return out


def _hashed_as(hashed: str, values: Iterable[ExposedValue]) -> list[ExposedValue]:
    """The exposed values whose SHA-512 crypt hash ``hashed`` is: a password migrated
    to ``hashedPasswordFile`` is still the exposed password."""
    from secretkit.nix.catalogue.password_hash import sha512_crypt

    parts = hashed.split("$")
    rounds: int | None = None
    if len(parts) == 5 and parts[2].startswith("rounds="):
        digits = parts[2][len("rounds=") :]
        rounds = int(digits) if digits.isdigit() and int(digits) <= 1_000_000 else None
        if rounds is None:
            return []
        salt = parts[3]
    elif len(parts) == 4:
        salt = parts[2]
    else:
        return []
    return [v for v in values if sha512_crypt(v.secret.reveal(), salt, rounds) == hashed]


def exposed(
    cwd: Path, *, progress: Progress | None = None, identities: IdentitySource = None
) -> ExposedReport:
    from secretkit.errors import SecretkitError
    from secretkit.git import require_repo
    from secretkit.keys.rotation import sops_file_infos
    from secretkit.scan.worktree import scan_tree
    from secretkit.sops import operations
    from secretkit.sops.engine import identities_of

    root = require_repo(cwd)
    unread: list[str] = []
    values = _history(root, progress, unread)
    for finding in scan_tree(root).findings:
        item = values.get(finding.fingerprint)
        if item is not None:
            item.plaintext.append(f"{finding.path}:{finding.line}")
    by_value: dict[Sensitive[str], ExposedValue] = {v.secret: v for v in values.values()}
    unchecked: list[str] = []
    held = identities_of(identities)
    for info in sops_file_infos(root):
        try:
            plain = operations.decrypt_bytes(info.data, info.fmt, held, source=info.rel)
        except SecretkitError:
            unchecked.append(info.rel)
            continue
        for path, value in plain.leaves():
            if value is None:
                continue
            name = "/".join(str(p) for p in path)
            item = by_value.get(Sensitive(str(value)))
            if item is not None:
                item.stored.append(f"{info.rel}: {name}")
            elif str(value).startswith("$6$"):
                for item in _hashed_as(str(value), values.values()):
                    item.stored.append(f"{info.rel}: {name} (its crypt hash)")
    for item in values.values():
        if item.plaintext:
            item.status = "plaintext"
        elif item.stored:
            item.status = "not rotated"
        elif unchecked:
            item.status = "unknown"
    return ExposedReport(list(values.values()), unchecked, unread)
