"""``secretkit exposed``: every value ever committed in plaintext, as a rotation checklist.

History is scanned (every ref, and the backups a ``purge`` kept of the history it
rewrote), each distinct value once, and merged with the clone's record of what
``purge`` removed (:mod:`secretkit.gate.exposed_record`: it outlives the backup
refs).  For each value the current state says what is known:

* ``plaintext`` — still in a file of the work tree (``path:line``);
* ``not rotated`` — moved into a sops file but unchanged (``file: name``): it was
  public, so change it at its provider and store the new one (``rotate value``);
* ``rotated`` — ``rotate value`` replaced it, or a sops name that held it holds
  another value now;
* ``removed`` — in no file of the tree and no sops file, and no rotation is known:
  deleting a value does not unpublish it;
* ``unknown`` — some sops file could not be opened, so it may still be there
  (never reported as rotated or removed without reading everything).

Values are compared in memory; nothing here prints or returns one (previews are
at most 4 characters).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.commands import Line, Shown, err, out
from secretkit.git.objects import REFETCH
from secretkit.sensitive import Sensitive

if TYPE_CHECKING:
    from secretkit.gate.exposed_record import ExposedRecord, RecordEntry, SopsValues
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
    secret: Sensitive[str] | None = field(repr=False)  # None: known from the record only
    fingerprint: str = ""  # the allowlist's (of the record's key for a purged value)
    plaintext: list[str] = field(default_factory=list)  # 'path:line' in the work tree
    stored: list[str] = field(default_factory=list)  # 'secrets/x.yaml: a/b/c'
    status: str = "removed"
    record: list[RecordEntry] = field(default_factory=list, repr=False)

    @property
    def only_in_record(self) -> bool:
        """No ref, backup or file of the history holds it any more: purged."""
        return self.secret is None

    @property
    def rotated_by(self) -> str | None:
        """Who said it was rotated, when the status says so: ``rotate value``, the
        user (``exposed --rotated``), or None for a new value found at its name."""
        if self.status != "rotated":
            return None
        return next((e.rotated_by for e in self.record if e.rotated), None)

    def to_json(self) -> dict[str, object]:
        return {
            "names": self.names,
            "rules": self.rules,
            "paths": self.paths,
            "commits": self.commits,
            "preview": self.preview,
            "only_in_purge_backup": self.in_backup_only,
            "only_in_purge_record": self.only_in_record,
            "purged": next((e.purged for e in self.record if e.purged), None),
            "status": self.status,
            "rotated_by": self.rotated_by,
            "fingerprint": self.fingerprint,
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
    refetch: str = REFETCH  # (git.objects.refetch_fix: how to fetch them here)

    @property
    def to_rotate(self) -> list[ExposedValue]:
        return [v for v in self.values if v.status != "rotated"]

    @property
    def exit_code(self) -> int:
        return 1 if self.to_rotate or self.unread else 0

    def lines(self) -> list[Line]:
        if not self.values and not self.unread:
            return [
                out("no value was ever committed in plaintext (history and purge backups scanned)")
            ]
        todo = (
            "rotate each one not marked [rotated]:"
            if self.to_rotate
            else "each is rotated (history still holds the old values):"
        )
        shown = (
            [out(f"{len(self.values)} value(s) were committed in plaintext; {todo}")]
            if self.values
            else [out("no value found in plaintext in the blobs that could be read")]
        )
        for item in self.values:
            shown += _item_lines(item)
        if self.unchecked:  # (one line: a clan holds hundreds)
            shown.append(
                err(
                    f"note: no identity here opens {len(self.unchecked)} sops file(s) "
                    f"({_first(self.unchecked, ', ')}); values in them could not be compared"
                )
            )
        if self.unread:
            shown.append(
                err(
                    f"cannot list everything: {len(self.unread)} blob(s) of the history could "
                    f"not be read ({_first(self.unread, '; ')}); values in them are not above. "
                    f"fix: fetch them ({self.refetch}) and run secretkit exposed again"
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


def _first(items: list[str], sep: str) -> str:
    """The first three of ``items``, and how many more."""
    more = f" and {len(items) - 3} more" if len(items) > 3 else ""
    return sep.join(items[:3]) + more


def _item_lines(item: ExposedValue) -> list[Line]:
    import shlex

    from secretkit.gate.exposed_record import WITHIN
    from secretkit.sops.formats import format_for_path

    if item.only_in_record:
        where = f"{', '.join(item.paths)} (purged from history; the checklist keeps it)"
    elif item.in_backup_only:
        where = f"{', '.join(item.paths)} (now only in purge's backup refs)"
    else:
        where = ", ".join(item.paths)
    shown = [out(f"  [{item.status}] {', '.join(item.names)} ({item.preview}) — was in {where}")]
    shown += [out(f"      still in plaintext: {place}") for place in item.plaintext]
    names: dict[str, None] = {}
    whole: dict[str, None] = {}  # files sops encrypts whole: no name holds the value alone
    inside: dict[str, list[str]] = {}  # file -> names whose longer text holds the value
    for place in item.stored:
        file, _, rest = place.partition(": ")
        if format_for_path(file) == "binary":
            whole[file] = None
        elif rest.endswith(WITHIN):  # (rotate value would put the new value in its place)
            inside.setdefault(file, []).append(rest.split(" ")[0])
        else:
            names[rest.split(" ")[0]] = None
        shown.append(out(f"      unchanged in {place}"))
    for name in names:  # (one run replaces it in every file that holds the name)
        how = f"secretkit rotate value {name} --from-stdin (or --kind …)"
        shown.append(out(f"        new value: {how}"))
    for file in whole:  # (rotate value replaces a name's whole value: the whole file)
        how = f"secretkit edit {shlex.quote(file)} (encrypted whole: change the value there)"
        shown.append(out(f"        new value: {how}"))
    for file, held in inside.items():  # (the rest of each text stays as it is)
        how = (
            f"secretkit edit {shlex.quote(file)} (change it inside the text of "
            f"{', '.join(held)}; rotate value would replace that whole text)"
        )
        shown.append(out(f"        new value: {how}"))
    if item.status == "removed":
        shown.append(
            out(
                "      in no file now, and no rotation is known: deleting it did not "
                "unpublish it; change it at its provider, then: "
                f"secretkit exposed --rotated {item.fingerprint}"
            )
        )
    elif item.rotated_by == "exposed --rotated":
        shown.append(out("      changed at its provider, as you said (exposed --rotated)"))
    elif item.status == "unknown":
        shown.append(
            out(
                "      cannot verify rotation: a sops file no identity here opens may hold it; "
                "set SOPS_AGE_KEY_FILE to a key that opens them, or if it was changed at its "
                f"provider: secretkit exposed --rotated {item.fingerprint}"
            )
        )
    return shown


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
                [], [], [], 0, finding.preview, backup, finding.secret, finding.fingerprint
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


def _held_unreported(root: Path, items: list[ExposedValue]) -> None:
    """Where the work tree still holds a value its scan does not report (a line marked
    ``secretkit: allow``, an allowlisted fingerprint): it is still in plaintext there,
    not "in no file now".  A short value counts on a marked line only; a sops file's
    own bytes (its keys, its ciphertext) are never such a place."""
    from secretkit.gate.history_findings import ANYWHERE_LENGTH
    from secretkit.git.files import publishable
    from secretkit.scan.hits import ALLOW_MARK
    from secretkit.sops.document import format_for_path, is_sops_file

    wanted = [
        (item, item.secret.reveal().encode("utf-8", "surrogateescape"))
        for item in items
        if item.secret is not None
    ]
    wanted = [(item, value) for item, value in wanted if value]
    if not wanted:
        return
    mark = ALLOW_MARK.encode()
    tracked, others = publishable(root)
    for rel in [*tracked, *others]:
        path = root / rel
        if path.is_symlink() or not path.is_file():
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if b"sops" in data and is_sops_file(data, format_for_path(rel)):
            continue  # (its keys and its ciphertext are no plaintext)
        for item, value in wanted:
            at = data.find(value)
            while at >= 0:
                first = data.rfind(b"\n", 0, at) + 1
                last = data.find(b"\n", at)
                if (
                    len(value) >= ANYWHERE_LENGTH
                    or mark in data[first : len(data) if last < 0 else last]
                ):
                    line = data.count(b"\n", 0, at) + 1
                    item.plaintext.append(f"{rel}:{line} (allowed there, or not read as a secret)")
                    break
                at = data.find(value, at + 1)


def exposed(
    cwd: Path,
    *,
    progress: Progress | None = None,
    identities: IdentitySource = None,
    rotated: Sequence[str] = (),
) -> ExposedReport:
    """The checklist; ``rotated``: fingerprints of values the user says were changed at
    their provider (kept in the record; a value still in use stays listed as such)."""
    from secretkit.gate.exposed_record import (
        entry_places,
        load_record,
        places_holding,
        sops_values,
        status_of,
    )
    from secretkit.git import require_repo
    from secretkit.scan.allowlist import load
    from secretkit.scan.worktree import scan_tree
    from secretkit.sops.engine import identities_of

    if rotated:
        from secretkit.commands import recover_interrupted

        recover_interrupted(cwd)  # the repository lock: the record is written
    root = require_repo(cwd)
    record = load_record(root)
    unread: list[str] = []
    values = _history(root, progress, unread)
    for finding in scan_tree(root).findings:
        item = values.get(finding.fingerprint)
        if item is not None:
            item.plaintext.append(f"{finding.path}:{finding.line}")
    _held_unreported(root, [item for item in values.values() if not item.plaintext])
    key = load(root).key.hex()
    matched: set[int] = set()
    for item in values.values():
        if item.secret is not None:
            item.record = record.matching(item.secret, (key, item.fingerprint))
        matched.update(id(entry) for entry in item.record)
    items = list(values.values())
    for entry in record.entries:
        if id(entry) not in matched and entry.purged:  # (rotate value's own: never committed)
            items.append(
                ExposedValue(
                    list(entry.names), list(entry.rules), list(entry.paths), entry.commits,
                    entry.preview, False, None, entry.fingerprint, record=[entry],
                )
            )  # fmt: skip
    if rotated:
        _mark(record, items, rotated, key)
    held = sops_values(root, identities_of(identities))
    items += _copied_values(root, held, items, key)
    for item in items:
        if item.secret is not None:
            places = places_holding(held, key, item.fingerprint, item.secret)
        else:
            places = entry_places(held, item.record[0])
        item.stored = [place.shown() for place in places]
        item.status = status_of(bool(item.plaintext), bool(item.stored), item.record, held)
    if not unread:
        return ExposedReport(items, held.unchecked, unread)
    from secretkit.git.objects import refetch_fix

    return ExposedReport(items, held.unchecked, unread, refetch_fix(root))


def _copied_values(
    root: Path, held: SopsValues, items: list[ExposedValue], key: str
) -> list[ExposedValue]:
    """The values of the sops files that history holds in plaintext where the scan
    reports nothing (``borg repo: <value>`` in a note, a decrypted copy committed once):
    published all the same, as check's decrypted-copy point says (helper-128: exposed
    said no value was ever committed)."""
    from secretkit.gate.decrypted_copies import copied_in_history
    from secretkit.scan.allowlist import fingerprint
    from secretkit.sensitive import preview

    known = [item.secret for item in items if item.secret is not None]
    values = [
        (leaf.reveal().encode("utf-8", "surrogateescape"), (file, name))
        for file, name, leaf in held.leaves
        if leaf.reveal() and leaf not in known
    ]
    if not values:
        return []
    reported = [secret.reveal().encode("utf-8", "surrogateescape") for secret in known]
    by_place = {(file, name): leaf for file, name, leaf in held.leaves}
    out: dict[str, ExposedValue] = {}
    for (file, name), blobs in sorted(copied_in_history(root, values, reported=reported).items()):
        leaf = by_place[(file, name)]
        fp = fingerprint(bytes.fromhex(key), leaf.reveal())
        item = out.get(fp)
        if item is None:
            item = out[fp] = ExposedValue(
                [], ["decrypted-copy"], [], 0, preview(leaf.reveal()), False, leaf, fp
            )
        item.names.append(name)
        item.paths += [b.path for b in blobs if b.path not in item.paths]
        item.commits += len(blobs)
    return list(out.values())


def _mark(
    record: ExposedRecord, items: list[ExposedValue], rotated: Sequence[str], key: str
) -> None:
    """Keep the user's word that the values of ``rotated`` (fingerprints) were changed
    at their provider; an unknown fingerprint changes nothing (exit 2)."""
    from secretkit.errors import UsageError
    from secretkit.gate.exposed_record import RecordEntry, now

    by_fp = {item.fingerprint: item for item in items}
    unknown = [fp for fp in rotated if fp not in by_fp]
    if unknown:
        raise UsageError(
            f"no value on the checklist has the fingerprint {unknown[0]}",
            hint="copy it from `secretkit exposed` (the line of a removed or unknown value)",
        )
    stamp, by = now(), "exposed --rotated"
    for fp in dict.fromkeys(rotated):
        item = by_fp[fp]
        if not item.record:
            item.record.append(
                record.add(
                    RecordEntry(
                        key, fp, list(item.names), list(item.rules), list(item.paths),
                        item.commits, item.preview,
                    )
                )
            )  # fmt: skip
        for entry in item.record:
            entry.rotated, entry.rotated_by = stamp, by
    record.save()
