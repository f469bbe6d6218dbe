"""``secretkit purge``: replace every secret ever committed by a marker, in all history.

Two steps, so that the CLI can show what will happen and ask first:

* :func:`plan_purge` refuses a dirty work tree (exit 3), scans every blob of every
  commit (``scan_history``) and returns what was found, grouped by secret, with the
  names to rotate (attribute paths or rules, and files — never values);
* :func:`apply_purge` keeps a backup (``refs/secretkit/backup/<UTC time>/…`` → every
  old ref and HEAD), rewrites the branches, tags and notes with git-filter-repo
  ``--replace-text`` and ``--replace-message`` (values → ``***REDACTED-BY-SECRETKIT***``
  in file contents, commit and annotated-tag messages), leaves the backup and
  remote-tracking refs as they were, and scans history again to prove it.  What
  git-filter-repo cannot rewrite — a tag pointing straight at a blob or a tree — is
  listed with the command that deletes it (:attr:`PurgeResult.unrewritten`).

A detached HEAD is refused: git-filter-repo rewrites refs, and a HEAD that is no ref
would keep pointing at the old commits.

The expressions file handed to git-filter-repo holds the plaintext values: the one
place purge writes secrets to disk, at the user's explicit request (0600 file in a
0700 temp dir, zeroed and removed right after; see :mod:`secretkit.git.filter_repo`).

Rewriting local history does not unpublish anything: the result lists the remotes
to force-push and the secrets to rotate at their provider, which is the real fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.errors import UserError
from secretkit.gate.history_findings import ExposedSecret, group_findings, live_findings
from secretkit.git import require_repo, run_git
from secretkit.sensitive import Sensitive

if TYPE_CHECKING:
    from secretkit.commands import Line
    from secretkit.scan.model import Finding

Progress = Callable[[int, int], None]


@dataclass
class PurgePlan:
    root: Path
    findings: list[Finding]
    exposed: list[ExposedSecret]
    refs: list[str]

    @property
    def clean(self) -> bool:
        return not self.findings


@dataclass
class PurgeResult:
    backup: str
    backup_refs: dict[str, str]
    rewritten: list[str]
    exposed: list[ExposedSecret]
    remotes: list[str]
    remaining: list[Finding] = field(default_factory=list)
    stashed: bool = False
    # The root commit was rewritten: allowlist fingerprints (keyed by it) change.
    allowlist_stale: bool = False
    too_short: int = 0  # distinct values not replaced (see MIN_PURGE_LENGTH)
    # what history still holds that git-filter-repo cannot rewrite: (what, command)
    unrewritten: list[tuple[str, str]] = field(default_factory=list)

    def push_commands(self) -> list[str]:
        return [
            cmd
            for remote in self.remotes
            for cmd in (f"git push --force --all {remote}", f"git push --force --tags {remote}")
        ]


def dirty_paths(root: Path) -> list[str]:
    """Tracked paths with staged or unstaged changes (untracked files do not count)."""
    proc = run_git(root, "status", "--porcelain=v1", "-z", "--untracked-files=no")
    return [
        entry[3:].decode("utf-8", "surrogateescape") for entry in proc.stdout.split(b"\0") if entry
    ]


def _require_clean(root: Path) -> None:
    dirty = dirty_paths(root)
    if dirty:
        shown = ", ".join(dirty[:3]) + (" …" if len(dirty) > 3 else "")
        raise UserError(
            f"the work tree has uncommitted changes ({shown}); purge rewrites history "
            "and resets the work tree",
            hint="commit or set aside your changes first, then run secretkit purge again",
        )


def _require_branch(root: Path) -> None:
    detached = run_git(root, "symbolic-ref", "-q", "HEAD", check=False).returncode != 0
    has_head = run_git(root, "rev-parse", "--verify", "-q", "HEAD", check=False).returncode == 0
    if detached and has_head:
        raise UserError(
            "HEAD is detached: purge rewrites refs, and a detached HEAD would keep "
            "pointing at the old commits",
            hint="check out a branch first (git switch <branch>), then run secretkit purge",
        )


def unrewritable(findings: list[Finding]) -> list[tuple[str, str]]:
    """What git-filter-repo cannot rewrite, with the command that removes it: tags of
    blobs or trees and annotated tag messages that hold a secret."""
    from secretkit.scan.history import ref_removal, tag_of

    out: dict[str, str] = {}
    for finding in findings:
        ref = tag_of(finding.path)
        if ref is not None:
            name, delete = ref_removal(ref)
            what = (
                f"{name}: a tag message on it holds a secret"
                if finding.path.startswith("(message of ")
                else f"{name} points straight at content holding a secret"
            )
            out.setdefault(what, delete)
    return sorted(out.items())


def plan_purge(cwd: Path, *, progress: Progress | None = None) -> PurgePlan:
    from secretkit.git.filter_repo import list_refs, refs_to_rewrite
    from secretkit.scan.history import scan_history

    root = require_repo(cwd)
    _require_clean(root)
    _require_branch(root)
    report = scan_history(root, progress=progress)
    findings = live_findings(root, list(report.findings))
    return PurgePlan(root, findings, group_findings(findings), refs_to_rewrite(list_refs(root)))


# Shorter values are not replaced: --replace-text works on every blob, and replacing
# e.g. "abc" everywhere would corrupt unrelated text.  They are reported instead.
MIN_PURGE_LENGTH = 4


def values_to_replace(root: Path, findings: list[Finding]) -> tuple[list[Sensitive[bytes]], int]:
    """Every byte string to replace — the value as found, and the exact bytes of its
    span in the blob (they differ when the file escapes characters, e.g. ``\\$`` in
    Nix) — and how many distinct values were too short to replace safely."""
    from secretkit.git.hooks import blob_contents

    values: dict[bytes, None] = {}
    specs = [f"{f.commit}:{f.path}" for f in findings if f.commit]
    blobs = blob_contents(root, specs)
    too_short = 0
    for finding in findings:
        value = finding.secret.reveal().encode("utf-8")
        if len(value) < MIN_PURGE_LENGTH:
            too_short += value not in values
            values[value] = None
            continue
        values[value] = None
        data = blobs.get(f"{finding.commit}:{finding.path}")
        if data is not None and 0 <= finding.start < finding.end <= len(data):
            values[data[finding.start : finding.end]] = None
    return [Sensitive(v) for v in values if len(v) >= MIN_PURGE_LENGTH], too_short


def _record(root: Path, plan: PurgePlan) -> None:
    """Keep what this purge removes in the clone's record (``secretkit exposed`` lists
    it until each value is rotated), with where a sops file an identity here opens
    holds it now."""
    from secretkit.errors import SecretkitError
    from secretkit.gate.exposed_record import record_purge
    from secretkit.scan.allowlist import load
    from secretkit.sops.identities import Identities, load_identities

    try:
        identities: Identities | None = load_identities()
    except SecretkitError:
        identities = None  # the places are then not known; the values still are
    values = {f.fingerprint: f.secret for f in plan.findings}
    record_purge(root, plan.exposed, values, load(root).key, identities)


def apply_purge(plan: PurgePlan, *, progress: Progress | None = None) -> PurgeResult:
    from secretkit.atomic import recover
    from secretkit.git.filter_repo import create_backup, replace_text
    from secretkit.git.objects import root_commits
    from secretkit.scan.allowlist import ALLOW_FILE, forget_fingerprints
    from secretkit.scan.history import scan_history

    root = plan.root
    recover(root)  # the repository lock, held until the command ends
    _require_clean(root)  # again: the user may have edited while we asked
    values, too_short = values_to_replace(root, plan.findings)
    roots_before = root_commits(root)
    backup, backup_refs = create_backup(root)
    _record(root, plan)  # before the rewrite: the checklist outlives the backup refs
    replace_text(root, values, plan.refs)
    forget_fingerprints(root)  # lookup ids of the values just removed
    allowlist_stale = root_commits(root) != roots_before and (root / ALLOW_FILE).is_file()
    # Still reachable from the rewritten refs?  (Backups and remote-tracking refs hold
    # the old commits until the force-push and the cleanup: expected.)
    after = list(scan_history(root, progress=progress).findings)
    unrewritten = unrewritable(after)
    remaining = [
        f
        for f in live_findings(root, after, plan.refs)
        if f.commit is not None  # tags of blobs/trees and tag messages: in unrewritten
    ]
    remotes = run_git(root, "remote").stdout.decode("utf-8", "surrogateescape").split()
    return PurgeResult(
        backup=backup,
        backup_refs=backup_refs,
        rewritten=plan.refs,
        exposed=plan.exposed,
        remotes=remotes,
        remaining=remaining,
        stashed="refs/stash" in plan.refs,
        allowlist_stale=allowlist_stale,
        too_short=too_short,
        unrewritten=unrewritten,
    )


# --- what the CLI shows ----------------------------------------------------------
def plan_lines(plan: PurgePlan) -> list[Line]:
    """The secrets found and the refs to rewrite (before the confirmation)."""
    from secretkit.commands import out

    if plan.clean:
        return [out("history holds no plaintext secret; nothing to purge")]
    shown = [out(f"{len(plan.exposed)} secret(s) found in history:")]
    shown += [out(f"  {item.describe()}") for item in plan.exposed]
    return [*shown, out(f"refs to rewrite: {', '.join(plan.refs)}")]


def result_exit_code(result: PurgeResult) -> int:
    """1 while the rewritten history still holds a finding or something was not rewritten."""
    return 1 if result.remaining or result.unrewritten else 0


def result_lines(result: PurgeResult) -> list[Line]:
    """What was rewritten, what was not, and the next steps."""
    from secretkit.commands import err, out

    shown = [out(f"history rewritten; backup of the old refs: {result.backup}/")]
    if result.remaining:
        shown.append(
            err(
                f"warning: {len(result.remaining)} finding(s) still in the rewritten history "
                "(run secretkit scan --history)"
            )
        )
    for what, command in result.unrewritten:
        shown.append(err(f"warning: not rewritten: {what}; delete it: {command}"))
    if result.stashed:
        shown.append(
            out("note: older stash entries (stash@{1}…) still hold old content: git stash list")
        )
    if result.too_short:
        shown.append(
            err(
                f"warning: {result.too_short} value(s) shorter than 4 characters were not "
                "replaced (replacing them in every file would corrupt unrelated text); rotate them"
            )
        )
    if result.allowlist_stale:
        shown.append(
            out(
                "note: the root commit changed, so .secretkit-allow fingerprints no longer "
                "match; re-create the entries (secretkit scan --format json shows the new "
                "fingerprints)"
            )
        )
    shown.append(out("next:"))
    if result.remotes:
        shown.append(
            out("  1. publish the rewritten history (every clone must re-clone afterwards):")
        )
        shown += [out(f"       {command}") for command in result.push_commands()]
    else:
        shown.append(out("  1. no remote is configured; nothing to force-push"))
    shown.append(
        out("  2. rotate these secrets at their provider: they were committed, and forks,")
    )
    shown.append(out("     clones and caches may still hold them:"))
    shown += [out(f"       - {item.describe()}") for item in result.exposed]
    shown.append(
        out("     `secretkit exposed` keeps this checklist, also once the backup is dropped:")
    )
    shown.append(out("     where each one is used now and whether it has been rotated since"))
    shown.append(out("     (`secretkit rotate value NAME`)"))
    shown.append(out("  3. once the new history is pushed and verified, drop the backup:"))
    drop = f"git for-each-ref --format='delete %(refname)' {result.backup}/"
    shown.append(out(f"       {drop} | git update-ref --stdin"))
    shown.append(out("       git reflog expire --expire=now --all && git gc --prune=now"))
    return shown
