"""What left the history but not the world: the durable rotation checklist.

``purge`` removes values from history, and dropping its backup refs (as the README
says to) removes the last copy a later scan could read — yet a history that was
pushed before still published them.  So, before rewriting, purge records each
distinct value it removes in ``<git dir>/secretkit/exposed.json``: names, rules,
paths, how many commits, a preview of at most 4 characters, the value's scrypt
fingerprint (:mod:`secretkit.scan.allowlist`) with the fingerprint key it was made
with (public: it comes from the root commit id, which the rewrite may change), and
where a sops file held it then (file, name, and the fingerprint of what that name
held — a crypt hash for a password moved to ``hashedPasswordFile``).  ``rotate
value`` marks the entries of the value it replaced.  Never a value.

The file lives in the git directory (never in the work tree, never pushed), mode
0600, replaced atomically; git's ``gc`` and ref deletion leave it alone.  A file
that cannot be read is an error, never an empty checklist.

Rotation is judged from what is known (:func:`entry_status`): the value still in a
sops file is ``not rotated``; a rotation marked by ``rotate value``, or a different
value now at a name that held it, is ``rotated``; a sops file no identity opens makes
it ``unknown``; otherwise it is ``removed`` (in no file now, and nothing says it
was changed at its provider).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.errors import UserError
from secretkit.sensitive import Sensitive

if TYPE_CHECKING:
    from secretkit.gate.history_findings import ExposedSecret
    from secretkit.sops.identities import Identities

RECORD_NAME = "exposed.json"
WITHIN = " (inside its value)"  # how a place holding the value in a longer text is shown
VERSION = 1


@dataclass(frozen=True)
class Place:
    """A sops file's name that held the value, and the fingerprint of what it held
    (the value itself, its crypt hash, or the generated part of it)."""

    file: str
    name: str
    fingerprint: str
    hashed: bool = False  # the name holds the value's crypt hash
    # the name holds a generated part of it ("part": `github.com=<token>` committed, an
    # access-tokens entry, the token stored) or a longer value holding it ("within":
    # `AWS_ACCESS_KEY_ID=<id>` stored, the id committed)
    part: str = ""

    def shown(self) -> str:
        forms = {"part": " (the token in it)", "within": WITHIN}
        form = " (its crypt hash)" if self.hashed else forms.get(self.part, "")
        return f"{self.file}: {self.name}{form}"


@dataclass
class RecordEntry:
    key: str  # hex of the fingerprint key the fingerprints below were made with
    fingerprint: str
    names: list[str]
    rules: list[str]
    paths: list[str]
    commits: int
    preview: str
    stored: list[Place] = field(default_factory=list)
    purged: str | None = None  # UTC time of the purge that took it out of history
    rotated: str | None = None  # UTC time it was replaced (by rotate value) or said changed
    rotated_by: str | None = None  # "rotate value" | "exposed --rotated" (the user's word)
    # the value held was a password's crypt hash: its "$6$[rounds=N$]salt" (as public as
    # the hash), so the password found in history can be matched to it
    crypt_salt: str | None = None

    def fingerprint_of(self, value: str) -> str:
        from secretkit.scan.allowlist import fingerprint

        return fingerprint(bytes.fromhex(self.key), value)

    def to_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "fingerprint": self.fingerprint,
            "names": self.names,
            "rules": self.rules,
            "paths": self.paths,
            "commits": self.commits,
            "preview": self.preview,
            "stored": [
                [p.file, p.name, p.fingerprint, p.hashed, *([p.part] if p.part else [])]
                for p in self.stored
            ],
            "purged": self.purged,
            "rotated": self.rotated,
            "rotated_by": self.rotated_by,
            "crypt_salt": self.crypt_salt,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> RecordEntry:
        def strings(name: str) -> list[str]:
            items = data[name]
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise ValueError(name)
            return list(items)

        def text(name: str, optional: bool = False) -> str | None:
            value = data.get(name)
            if value is None and optional:
                return None
            if not isinstance(value, str):
                raise ValueError(name)
            return value

        stored = data.get("stored", [])
        commits = data["commits"]
        if not isinstance(stored, list) or not isinstance(commits, int):
            raise ValueError("stored")
        places = []
        for item in stored:
            if not (isinstance(item, list) and len(item) in (4, 5)):
                raise ValueError("stored")
            file, name, fp, hashed, *part = item
            if not (isinstance(file, str) and isinstance(name, str) and isinstance(fp, str)):
                raise ValueError("stored")
            form = part[0] if part and part[0] in ("part", "within") else ""
            places.append(Place(file, name, fp, hashed is True, form))
        return cls(
            key=text("key") or "",
            fingerprint=text("fingerprint") or "",
            names=strings("names"),
            rules=strings("rules"),
            paths=strings("paths"),
            commits=commits,
            preview=(text("preview") or "")[:5],
            stored=places,
            purged=text("purged", optional=True),
            rotated=text("rotated", optional=True),
            rotated_by=text("rotated_by", optional=True),
            crypt_salt=text("crypt_salt", optional=True),
        )


@dataclass
class ExposedRecord:
    file: Path | None  # None outside a git directory (nothing to keep)
    entries: list[RecordEntry] = field(default_factory=list)

    def matching(
        self, value: Sensitive[str], known: tuple[str, str] | None = None
    ) -> list[RecordEntry]:
        """The entries of ``value``: one fingerprint per key the entries use (``known``:
        its fingerprint under one key, computed already)."""
        by_key: dict[str, str] = dict([known]) if known is not None else {}
        found = []
        for entry in self.entries:
            if entry.crypt_salt is not None:  # the entry is of the value's crypt hash
                hashed = _crypt_like(entry.crypt_salt + "$", value)
                if hashed is not None and entry.fingerprint_of(hashed) == entry.fingerprint:
                    found.append(entry)
                continue
            if entry.key not in by_key:
                by_key[entry.key] = entry.fingerprint_of(value.reveal())
            if by_key[entry.key] == entry.fingerprint:
                found.append(entry)
        return found

    def add(self, entry: RecordEntry) -> RecordEntry:
        """``entry``, merged into the one of the same value when there is one."""
        for old in self.entries:
            if (old.key, old.fingerprint) == (entry.key, entry.fingerprint):
                for mine, theirs in (
                    (old.names, entry.names),
                    (old.rules, entry.rules),
                    (old.paths, entry.paths),
                ):
                    mine.extend(x for x in theirs if x not in mine)
                old.stored.extend(p for p in entry.stored if p not in old.stored)
                old.commits = max(old.commits, entry.commits)
                old.purged = entry.purged or old.purged
                if entry.rotated:
                    old.rotated, old.rotated_by = entry.rotated, entry.rotated_by
                return old
        self.entries.append(entry)
        return entry

    def save(self) -> None:
        from secretkit.atomic import write_atomic

        if self.file is None:
            return
        data = {"version": VERSION, "entries": [e.to_json() for e in self.entries]}
        self.file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        text = json.dumps(data, indent=1, ensure_ascii=True) + "\n"
        write_atomic(self.file, text.encode("ascii"), mode=0o600)


def record_file(root: Path) -> Path | None:
    from secretkit.git import git_dir

    base = git_dir(root)
    return None if base is None else base / "secretkit" / RECORD_NAME


def load_record(root: Path) -> ExposedRecord:
    """The record of the clone at ``root`` (empty when none was made)."""
    file = record_file(root)
    if file is None:
        return ExposedRecord(None)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        return ExposedRecord(file)
    except OSError as exc:
        raise _damaged(file, exc.strerror or "unreadable") from None
    try:
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ValueError("version")
        items = data["entries"]
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ValueError("entries")
        entries = [RecordEntry.from_json(item) for item in items]
    except (ValueError, KeyError, UnicodeDecodeError) as exc:
        raise _damaged(file, f"not a secretkit record ({exc.__class__.__name__})") from None
    return ExposedRecord(file, entries)


def _damaged(file: Path, why: str) -> UserError:
    return UserError(
        f"cannot read the checklist of purged values {file}: {why}",
        hint="restore the file (it lists the values purge removed that still need "
        f"rotation), or delete it to forget them: rm {file}",
    )


def now() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


# --- what the sops files hold now ----------------------------------------------------
@dataclass
class SopsValues:
    """Every value of the sops files an identity here opens; the others listed."""

    leaves: list[tuple[str, str, Sensitive[str]]]  # (file, name, value)
    unchecked: list[str]

    def at(self, file: str, name: str) -> Sensitive[str] | None:
        return next((v for f, n, v in self.leaves if (f, n) == (file, name)), None)


def sops_values(root: Path, identities: Identities) -> SopsValues:
    from secretkit.errors import SecretkitError
    from secretkit.keys.rotation import sops_file_infos
    from secretkit.sops import operations

    leaves: list[tuple[str, str, Sensitive[str]]] = []
    unchecked: list[str] = []
    for info in sops_file_infos(root):
        try:
            plain = operations.decrypt_bytes(info.data, info.fmt, identities, source=info.rel)
        except SecretkitError:
            unchecked.append(info.rel)
            continue
        for path, value in plain.leaves():
            if value is not None:
                name = "/".join(str(p) for p in path)
                leaves.append((info.rel, name, Sensitive(str(value))))
    return SopsValues(leaves, unchecked)


def places_holding(
    held: SopsValues, key: str, fingerprint: str, value: Sensitive[str] | None = None
) -> list[Place]:
    """Where the sops files hold the value of ``fingerprint`` (made with ``key``) now:
    by ``value`` when it is known (also as its crypt hash, or as the generated part of
    it a name holds alone), else by fingerprint (one scrypt per value of the files)."""
    from secretkit.nix.catalogue.password_hash import is_crypt_hash
    from secretkit.scan.allowlist import fingerprint as fingerprint_with

    raw = bytes.fromhex(key)
    found = []
    for file, name, leaf in held.leaves:
        if value is None:
            same = fingerprint_with(raw, leaf.reveal()) == fingerprint
        else:
            same = leaf == value
        if same:
            found.append(Place(file, name, fingerprint))
        elif value is not None and is_crypt_hash(leaf.reveal()) and _hash_of(leaf, value):
            found.append(Place(file, name, fingerprint_with(raw, leaf.reveal()), hashed=True))
        elif value is not None and (form := _shared(leaf, value)):
            found.append(Place(file, name, fingerprint_with(raw, leaf.reveal()), part=form))
    return found


def _shared(leaf: Sensitive[str], value: Sensitive[str]) -> str:
    """``"part"`` when ``leaf`` is the generated part of ``value``, ``"within"`` when
    ``value`` is a generated part of ``leaf`` (an env line stored whole), else ""."""
    if _part_of(leaf, value):
        return "part"
    return "within" if _part_of(value, leaf) or _assigned_in(leaf, value) else ""


def _assigned_in(leaf: Sensitive[str], value: Sensitive[str]) -> bool:
    """Whether a line of ``leaf`` (an env file stored whole) assigns exactly ``value``
    (``PAPERLESS_DBPASS=<value>``, quoted or not): the whole value, whatever its shape."""
    text = value.reveal()
    if len(text) < 8 or text not in leaf.reveal():
        return False
    for line in leaf.reveal().splitlines():
        _name, sep, assigned = line.partition("=")
        if sep and assigned.strip().strip("\"'") == text:
            return True
    return False


def _part_of(leaf: Sensitive[str], value: Sensitive[str]) -> bool:
    """Whether ``leaf`` is a generated part of ``value`` (a token in the
    `host=<token>` or `user:<token>` string): long and random-looking, so that no word
    or setting inside a value counts."""
    from secretkit.scan.value_shapes import random_looking

    part = leaf.reveal()
    return len(part) >= 16 and part in value.reveal() and random_looking(part)


def entry_places(held: SopsValues, entry: RecordEntry) -> list[Place]:
    """Where the sops files hold ``entry``'s value now, the value itself unknown: by
    fingerprint, or at a place that held its crypt hash (or a part of it) and holds the
    same still."""
    found = places_holding(held, entry.key, entry.fingerprint)
    for place in entry.stored:
        if (place.hashed or place.part) and place not in found:
            now_there = held.at(place.file, place.name)
            if now_there is not None and entry.fingerprint_of(now_there.reveal()) == (
                place.fingerprint
            ):
                found.append(place)
    return found


def _crypt_params(hashed: str) -> tuple[str, int | None] | None:
    """Salt and rounds of a SHA-512 crypt hash (``$6$[rounds=N$]salt$digest``)."""
    parts = hashed.split("$")
    if len(parts) == 5 and parts[1] == "6" and parts[2].startswith("rounds="):
        digits = parts[2][len("rounds=") :]
        if not digits.isdigit() or int(digits) > 1_000_000:
            return None
        return parts[3], int(digits)
    if len(parts) == 4 and parts[1] == "6":
        return parts[2], None
    return None


def _crypt_like(hashed: str, value: Sensitive[str]) -> str | None:
    """``value`` hashed as ``hashed`` was (same salt and rounds), if it is SHA-512 crypt."""
    from secretkit.nix.catalogue.password_hash import sha512_crypt

    params = _crypt_params(hashed)
    return None if params is None else sha512_crypt(value.reveal(), *params)


def _hash_of(hashed: Sensitive[str], value: Sensitive[str]) -> bool:
    return _crypt_like(hashed.reveal(), value) == hashed.reveal()


def rotated_since(entries: Iterable[RecordEntry], held: SopsValues) -> bool:
    """Whether a rotation is known: marked by ``rotate value``, or a name that held the
    value (in a file opened now) holds something else."""
    for entry in entries:
        if entry.rotated:
            return True
        for place in entry.stored:
            now_there = held.at(place.file, place.name)
            if now_there is not None and entry.fingerprint_of(now_there.reveal()) != (
                place.fingerprint
            ):
                return True
    return False


def status_of(
    plaintext: bool, stored: bool, entries: Iterable[RecordEntry], held: SopsValues
) -> str:
    """What is known of one exposed value (see the module's docstring)."""
    if plaintext:
        return "plaintext"
    if stored:
        return "not rotated"
    if rotated_since(entries, held):
        return "rotated"
    return "unknown" if held.unchecked else "removed"


def purged_unrotated(
    root: Path, identities: Identities
) -> tuple[list[tuple[RecordEntry, list[Place]]], list[str]]:
    """The entries a purge removed from history that are not known to be rotated, with
    where the sops files hold each now, and the sops files no identity here opens
    (those entries may be rotated there)."""
    record = load_record(root)
    purged = [entry for entry in record.entries if entry.purged]
    if not purged:
        return [], []
    held = sops_values(root, identities)
    unrotated = []
    for entry in purged:
        places = entry_places(held, entry)
        if status_of(False, bool(places), [entry], held) != "rotated":
            unrotated.append((entry, places))
    return unrotated, held.unchecked


def entry_from(secret: ExposedSecret, key: bytes, purged: str | None) -> RecordEntry:
    return RecordEntry(
        key.hex(),
        secret.fingerprint,
        list(secret.names),
        list(secret.rules),
        list(secret.paths),
        secret.commits,
        secret.preview,
        purged=purged,
    )


def record_purge(
    root: Path,
    exposed: list[ExposedSecret],
    values: dict[str, Sensitive[str]],
    key: bytes,
    identities: Identities | None,
) -> ExposedRecord:
    """Add what a purge is about to remove (``values``: fingerprint → value, in memory
    only) to the record, with where the sops files an identity opens hold it now; saved
    before the history is rewritten."""
    record = load_record(root)
    held = sops_values(root, identities) if identities is not None else SopsValues([], [])
    stamp = now()
    for secret in exposed:
        entry = record.add(entry_from(secret, key, stamp))
        value = values.get(secret.fingerprint)
        if value is not None:
            places = places_holding(held, entry.key, entry.fingerprint, value)
            entry.stored.extend(p for p in places if p not in entry.stored)
            # a rotation known of it under another entry (rotate value replaced its crypt
            # hash: that entry is the hash's) stays known once history no longer shows it
            done = [e for e in record.matching(value) if e.rotated and e is not entry]
            if done and not entry.rotated:
                entry.rotated, entry.rotated_by = done[0].rotated, done[0].rotated_by
    record.save()
    return record


def _secrets_within(name: str, text: Sensitive[str]) -> list[Sensitive[str]]:
    """The secrets the scanner finds in a file's text stored whole under ``name`` (a
    docker-compose file's password: history found it, not the file)."""
    from secretkit.scan.one_file import scan_bytes

    # (read as text, as a file named like the key: its key/value lines in any of YAML,
    # env or INI form are judged by their names)
    findings, _skipped = scan_bytes(name, text.reveal().encode("utf-8", "replace"))
    return [f.secret for f in findings if f.secret.reveal() != text.reveal()]


def mark_rotated(
    record: ExposedRecord,
    name: str,
    files: Iterable[str],
    old: Iterable[Sensitive[str]],
    key: bytes,
) -> None:
    """``rotate value NAME`` replaced ``old`` at ``name`` in ``files``: the entries of
    those values (by fingerprint, or by a place that held them) are rotated now; a value
    the record did not hold (never purged: history still shows it) gets an entry of its
    own, so that ``exposed`` knows it was rotated.  Not saved here."""
    from secretkit.scan.allowlist import fingerprint
    from secretkit.sensitive import preview

    stamp, by = now(), "rotate value"
    files = set(files)
    for entry in record.entries:
        if any(p.name == name and p.file in files for p in entry.stored):
            entry.rotated, entry.rotated_by = stamp, by
    old = list(old)
    for value in [v for v in old if "\n" in v.reveal().strip()]:
        old += _secrets_within(name, value)  # a file's text replaced: its secrets with it
    for value in dict.fromkeys(old):
        found = record.matching(value)
        for entry in found:
            entry.rotated, entry.rotated_by = stamp, by
        if not found:
            fp = fingerprint(key, value.reveal())
            places = [Place(file, name, fp) for file in sorted(files)]
            entry = RecordEntry(key.hex(), fp, [name], [], [], 0, preview(value), places)
            entry.rotated, entry.rotated_by = stamp, by
            if _crypt_params(value.reveal()) is not None:
                entry.crypt_salt = value.reveal().rsplit("$", 1)[0]
            record.add(entry)
