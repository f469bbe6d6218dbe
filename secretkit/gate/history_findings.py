"""Secrets found in git history, as ``purge`` and ``check`` report them: grouped by
secret (names, rules, files, how many commits — never the value), and narrowed to
what the repository's refs still reach."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from secretkit.scan.model import Finding


@dataclass(frozen=True)
class ExposedSecret:
    """One secret value that history holds: what to rotate, never the value."""

    names: tuple[str, ...]  # attribute paths, else rule names
    rules: tuple[str, ...]
    paths: tuple[str, ...]
    commits: int  # how many commits wrote it (added a version holding it; later ones keep it)
    preview: str = ""  # at most 4 characters of the value
    fingerprint: str = ""  # the allowlist's fingerprint of the value
    line: int = 0  # where it was first found (in the first of ``paths``)
    kinds: tuple[str, ...] = ()  # what the value is (the findings' kinds)

    def describe(self, *, preview: bool = False) -> str:
        """``names (rules) in paths``; the rules once when there is no attribute path
        to name it by (a value outside Nix is named by its rule).  With ``preview``
        the value's preview follows the names, and the line it was first found at its
        file: two values under one name in one file are then told apart."""
        extra = [rule for rule in self.rules if rule not in self.names]
        rules = f" ({', '.join(extra)})" if extra else ""
        shown = f" {self.preview!r}" if preview and self.preview else ""
        paths = list(self.paths)
        if preview and self.line and paths:
            paths[0] = f"{paths[0]}:{self.line}"
        return f"{', '.join(self.names)}{rules}{shown} in {', '.join(paths)}"


def group_findings(findings: list[Finding]) -> list[ExposedSecret]:
    """One entry per distinct secret (by fingerprint), in first-seen order."""
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.fingerprint, []).append(finding)
    exposed = []
    for items in groups.values():
        names = tuple(dict.fromkeys(f.attrpath or f.rule for f in items))
        rules = tuple(dict.fromkeys(f.rule for f in items))
        paths = tuple(dict.fromkeys(f.path for f in items))
        commits = len({f.commit for f in items if f.commit})
        first = items[0]
        kinds = tuple(dict.fromkeys(f.kind for f in items))
        exposed.append(
            ExposedSecret(
                names, rules, paths, commits, first.preview, first.fingerprint, first.line, kinds
            )
        )
    return exposed


# A committed value shorter than this also occurs in ordinary text ("nixos" as a root
# password is in every `nixosModules`, `nixos-24.11` and `hostName = "nixos"`): purge
# replaces it only on the lines it was found on, and exposed looks for it only on lines
# marked ``secretkit: allow``.  A longer one (a generated secret) is that value wherever
# it occurs.
ANYWHERE_LENGTH = 16


# What a committed value is changed by: a password or passphrase is set anew where it
# is used (a user's login, a wifi network, a backup repository: no provider issued
# it), a private key is replaced by a new pair; anything else (a token, an API key) is
# revoked and issued anew by the service that issued it.
_SET_ANEW = ("password", "passphrase", "psk")
_KEY_PAIRS = ("private-key", "preshared-key")


def change_first(items: Sequence[ExposedSecret]) -> str:
    """The first step for ``items``, committed values that must stop working: changed
    in the way that fits what they are."""
    kinds = {kind for item in items for kind in item.kinds}
    each = "each" if len(items) > 1 else "that"
    found = {
        "set": bool(kinds & set(_SET_ANEW)),
        "pair": bool(kinds & set(_KEY_PAIRS)),
        "other": bool(kinds - set(_SET_ANEW) - set(_KEY_PAIRS)) or not kinds,
    }
    alone = {
        "set": f"change {each} password where it is used",
        "pair": f"replace {each} key with a new pair (trust only the new public key)",
        "other": "rotate it at its provider",
    }
    parts = {
        "set": "a password where it is used",
        "pair": "a private key by a new pair",
        "other": "a token or key at its provider",
    }
    present = [name for name, held in found.items() if held]
    if len(present) == 1:
        return alone[present[0]]
    return f"change each value ({'; '.join(parts[name] for name in present)})"


def live_findings(
    root: Path, findings: list[Finding], refs: Sequence[str] | None = None
) -> list[Finding]:
    """The history findings whose blob is reachable from ``refs`` (default: every ref
    but secretkit's backups, which hold the old commits on purpose).  A finding whose
    blob cannot be resolved is kept: when in doubt, report."""
    from secretkit.git.filter_repo import blob_ids, reachable_objects
    from secretkit.scan.history import is_message
    from secretkit.scan.names import IDENTITY_PREFIX, NAME_PREFIX

    specs = [f"{f.commit}:{f.path}" for f in findings if f.commit and not is_message(f.path)]
    if not specs and not any(f.commit and is_message(f.path) for f in findings):
        return list(findings)
    ids = blob_ids(root, specs)
    live = reachable_objects(root, refs)
    named = _names_added(root, refs, [f for f in findings if f.path.startswith(NAME_PREFIX)], live)
    named.update(_identities_named(root, refs, findings, live))

    def alive(f: Finding) -> bool:
        if f.commit is None:
            return True
        if is_message(f.path):  # a commit message lives as long as its commit
            return f.commit in live
        if f.path.startswith((NAME_PREFIX, IDENTITY_PREFIX)):  # while a commit names it
            return f.commit in live or f.secret.reveal() in named
        oid = ids.get(f"{f.commit}:{f.path}")
        return oid is None or oid in live

    # A blob the refs reach, found at a commit they do not (purge's backup, a deleted
    # branch): it is named where the refs hold it, or the report points at a file
    # that no longer holds the secret.
    moved: dict[str, tuple[str, str] | None] = {}
    out = []
    for f in findings:
        if not alive(f):
            continue
        if f.path.startswith((NAME_PREFIX, IDENTITY_PREFIX)) and f.commit not in live:
            f = replace(f, commit=named[f.secret.reveal()])  # (where the refs add it)
        oid = ids.get(f"{f.commit}:{f.path}") if f.commit and not is_message(f.path) else None
        if oid is not None and f.commit not in live:
            if oid not in moved:
                moved[oid] = where_added(root, oid, refs)
            place = moved[oid]
            if place is not None:
                f = replace(f, commit=place[0], path=place[1])
        out.append(f)
    return out


def _names_added(
    root: Path, refs: Sequence[str] | None, findings: list[Finding], live: set[str]
) -> dict[str, str]:
    """Of the tokens ``findings`` found in paths' names at commits ``refs`` do not
    reach (purge's backup), those a commit the refs reach still adds a path named
    with, each with the oldest such commit (one walk, only when there are any)."""
    from secretkit.git import run_git
    from secretkit.git.filter_repo import BACKUP_NAMESPACE

    tokens = {f.secret.reveal() for f in findings if f.commit not in live}
    args = [f"--exclude={BACKUP_NAMESPACE}*", "--all"] if refs is None else list(refs)
    if not tokens or not args:
        return {}
    proc = run_git(
        root, "log", "-m", "--no-renames", "-z", "--format=%x01%H", "--name-only",
        "--diff-filter=AMT", *args, "--", check=False,
    )  # fmt: skip
    found: dict[str, str] = {}
    for record in proc.stdout.split(b"\x01")[1:]:
        head, _, names = record.partition(b"\n")
        commit = head.strip(b"\0\n").decode()
        text = names.decode("utf-8", "surrogateescape")
        for token in tokens:
            if token in text:
                found[token] = commit  # (log lists newest first: the last is the oldest)
    return found


def _identities_named(
    root: Path, refs: Sequence[str] | None, findings: list[Finding], live: set[str]
) -> dict[str, str]:
    """Of the tokens found in authors' names at commits ``refs`` do not reach, those
    an author the refs reach is still named with, each with that commit (or tag)."""
    from secretkit.git.filter_repo import BACKUP_NAMESPACE
    from secretkit.git.identities import identities
    from secretkit.scan.names import IDENTITY_PREFIX

    tokens = {
        f.secret.reveal()
        for f in findings
        if f.path.startswith(IDENTITY_PREFIX) and f.commit not in live
    }
    if not tokens:
        return {}
    args = [f"--exclude={BACKUP_NAMESPACE}*", "--all"] if refs is None else list(refs)
    found: dict[str, str] = {}
    for name, oid in identities(root, args).items():
        for token in tokens:
            if token in name:
                found.setdefault(token, oid)
    return found


def where_added(root: Path, oid: str, refs: Sequence[str] | None) -> tuple[str, str] | None:
    """``(commit, path)`` of the oldest commit ``refs`` reach (by default every ref but
    purge's backups) that adds blob ``oid``, or None."""
    import re

    from secretkit.git import run_git
    from secretkit.git.filter_repo import BACKUP_NAMESPACE

    args = [f"--exclude={BACKUP_NAMESPACE}*", "--all"] if refs is None else list(refs)
    if not args:
        return None
    proc = run_git(
        root,
        "log",
        "-m",
        "--raw",
        "--no-abbrev",
        "--no-renames",
        "-z",
        "--format=%x01%H",
        f"--find-object={oid}",
        *args,
        "--",
        check=False,
    )
    found = None
    for record in proc.stdout.split(b"\x01")[1:]:
        head = re.match(rb"[\n\0]*([0-9a-f]+)[\n\0]*", record)  # (SHA-1 or SHA-256)
        if head is None:
            continue
        commit, raw = head.group(1), record[head.end() :]
        fields = raw.split(b"\0")
        for meta, name in zip(fields[::2], fields[1::2], strict=False):
            parts = meta.split(b" ")
            if len(parts) >= 5 and parts[3].decode() == oid and parts[4][:1] in (b"A", b"M", b"T"):
                found = (commit.decode().strip(), name.decode("utf-8", "surrogateescape"))
    return found  # (log lists newest first: the last is the oldest)
