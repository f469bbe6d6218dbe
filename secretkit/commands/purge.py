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
from secretkit.gate.history_findings import (
    ANYWHERE_LENGTH,
    ExposedSecret,
    change_first,
    group_findings,
    live_findings,
)
from secretkit.git import require_repo, run_git
from secretkit.sensitive import Sensitive

if TYPE_CHECKING:
    from secretkit.commands import Line
    from secretkit.scan.model import Finding, Skipped

Progress = Callable[[int, int], None]


@dataclass
class PurgePlan:
    root: Path
    findings: list[Finding]
    exposed: list[ExposedSecret]
    refs: list[str]
    # the files of HEAD that still hold a value found (the rewrite puts the marker there)
    in_head: list[str] = field(default_factory=list)
    # the paths of HEAD named with a value found (the rewrite renames them)
    renamed_in_head: list[str] = field(default_factory=list)

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
        from secretkit.scan.names import mark_unshown

        mark_unshown(dirty)  # (a token in a name: output shows its preview)
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
    from secretkit.scan.names import REF_PREFIX

    out: dict[str, str] = {}
    for finding in findings:
        if finding.path.startswith(REF_PREFIX):
            what = f"{finding.path.removeprefix(REF_PREFIX)}: a ref's name holds a secret"
            out.setdefault(
                what,
                "rename it (git branch -m for a branch; git tag -d, then a new tag, for a "
                "tag; `git for-each-ref` lists it)",
            )
            continue
        if finding.inside and finding.commit is not None:
            out.setdefault(*_whole_file_out(finding))
            continue
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


def _whole_file_out(finding: Finding) -> tuple[str, str]:
    """What and how for a value git-filter-repo's text replacement cannot reach (in an
    archive, an LFS object or a binary file): the file leaves every commit."""
    import shlex

    where = {"archive": "inside a compressed file or archive", "lfs": "in an LFS object"}
    return (
        f"{finding.file}: a secret {where.get(finding.inside, 'in a binary file')}, which "
        "git-filter-repo does not rewrite",
        "git filter-repo --force --replace-refs delete-no-add --invert-paths "
        f"{shlex.quote('--path=' + finding.file)} (it rewrites every branch and keeps no "
        "backup) and force-push",
    )


def plan_purge(cwd: Path, *, progress: Progress | None = None) -> PurgePlan:
    from secretkit.git.filter_repo import list_refs, refs_to_rewrite
    from secretkit.scan.history import scan_history

    root = require_repo(cwd)
    _require_clean(root)
    _require_branch(root)
    report = scan_history(root, progress=progress)
    _require_whole_history(root, report.skipped)
    findings = live_findings(root, list(report.findings))
    plan = PurgePlan(root, findings, group_findings(findings), refs_to_rewrite(list_refs(root)))
    plan.in_head = still_in_head(root, findings)
    plan.renamed_in_head = renamed_in_head(root, findings)
    return plan


def _require_whole_history(root: Path, skipped: list[Skipped]) -> None:
    """A history with blobs missing from the object store is not rewritten: the scan
    could not read them (a secret in one would stay), and git-filter-repo stops on the
    first with only fast-import's crash report to show for it."""
    from secretkit.git.objects import refetch_fix
    from secretkit.scan.many_files import MISSING_BLOB

    missing = [s.path for s in skipped if s.reason == MISSING_BLOB]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise UserError(
            f"{len(missing)} blob(s) of the history are missing from this clone "
            f"({missing[0]}{more}): their content could not be scanned, and git-filter-repo "
            "cannot rewrite a history it cannot read",
            hint=f"fetch the missing objects ({refetch_fix(root)}), then purge again",
        )


def still_in_head(root: Path, findings: list[Finding]) -> list[str]:
    """The files of HEAD where the rewrite replaces something (:func:`values_to_replace`:
    a value in use there, and the configuration then holds the marker)."""
    head = head_files(root)
    replace = values_to_replace(root, findings, head)
    anywhere = [value.reveal() for value in replace.anywhere]
    lines = {old.reveal() for old, _new in replace.lines}  # (whole lines, as replaced)
    return sorted(
        path
        for path, data in head.items()
        if any(v in data for v in anywhere) or not lines.isdisjoint(data.split(b"\n"))
    )


def renamed_in_head(root: Path, findings: list[Finding]) -> list[str]:
    """The paths of HEAD the rewrite renames: a value found in a path's name
    (:mod:`secretkit.scan.names`) is taken out of every path holding it."""
    from secretkit.git.objects import tree_entries
    from secretkit.scan.names import NAME_PREFIX

    tokens = {f.secret.reveal() for f in findings if f.path.startswith(NAME_PREFIX)}
    if not tokens or run_git(root, "rev-parse", "--verify", "-q", "HEAD", check=False).returncode:
        return []
    return sorted(p for p, _oid in tree_entries(root, "HEAD") if any(t in p for t in tokens))


def head_files(root: Path) -> dict[str, bytes]:
    """The files of HEAD (none over :data:`secretkit.scan.one_file.MAX_BYTES`)."""
    from secretkit.git.objects import read_blobs_limited, tree_entries
    from secretkit.scan.one_file import MAX_BYTES

    if run_git(root, "rev-parse", "--verify", "-q", "HEAD", check=False).returncode != 0:
        return {}  # (no commit yet)
    oids: dict[str, list[str]] = {}
    for path, oid in tree_entries(root, "HEAD"):
        oids.setdefault(oid, []).append(path)
    out = {}
    for oid, _size, data in read_blobs_limited(root, list(oids), MAX_BYTES):
        if data is not None:
            out.update(dict.fromkeys(oids[oid], data))
    return out


@dataclass(frozen=True)
class Replacements:
    """What the rewrite replaces: values wherever they occur, and lines that hold a
    value, each by the line with the marker in the value's place."""

    anywhere: list[Sensitive[bytes]]
    lines: list[tuple[Sensitive[bytes], Sensitive[bytes]]]
    too_short: int  # distinct short values not replaced (their lines could not be read)


def values_to_replace(
    root: Path, findings: list[Finding], head: dict[str, bytes] | None = None
) -> Replacements:
    """What to replace for ``findings``: each line a value was found on (its exact
    bytes there: a file may escape characters, e.g. ``\\$`` in Nix), with the marker in
    the value's place; and a value of :data:`ANYWHERE_LENGTH` characters or more
    wherever it occurs, unless HEAD keeps it on a line marked ``secretkit: allow``
    (``head``: HEAD's files; that line is the user's, and stays).  A short value whose
    line cannot be read is not replaced, and counted."""
    from secretkit.git.filter_repo import name_markers

    # (a token in a path's name: a line naming that path names its new one)
    renamed = name_markers(v.reveal() for v in _in_names(findings))
    return _to_replace(root, findings, head, renamed)


def _mailmap(root: Path, findings: list[Finding]) -> Sensitive[bytes] | None:
    """git-filter-repo's ``--mailmap`` that takes the tokens found in authors' names
    (``(author) …``) out of every author, committer and tagger holding one."""
    from secretkit.git.filter_repo import name_markers
    from secretkit.git.identities import identities, mailmap
    from secretkit.scan.names import IDENTITY_PREFIX

    tokens = {f.secret.reveal() for f in findings if f.path.startswith(IDENTITY_PREFIX)}
    if not tokens:
        return None
    markers = {t.decode(): m.decode() for t, m in name_markers(v.encode() for v in tokens).items()}

    def new(identity: str) -> str:
        for token, marker in markers.items():
            identity = identity.replace(token, marker)
        return identity

    held = [name for name in identities(root) if any(t in name for t in tokens)]
    return Sensitive(mailmap(held, new)) if held else None


def _in_names(findings: list[Finding]) -> list[Sensitive[bytes]]:
    """The values found in paths' names (tokens: the paths are renamed)."""
    from secretkit.scan.names import NAME_PREFIX

    return [
        Sensitive(f.secret.reveal().encode("utf-8", "surrogateescape"))
        for f in findings
        if f.path.startswith(NAME_PREFIX)
    ]


def _to_replace(
    root: Path, findings: list[Finding], head: dict[str, bytes] | None, renamed: dict[bytes, bytes]
) -> Replacements:
    from secretkit.git.filter_repo import MARKER
    from secretkit.git.hooks import blob_contents
    from secretkit.git.objects import messages_of
    from secretkit.scan.history import is_message
    from secretkit.scan.hits import ALLOW_MARK

    allowed = {  # the lines of HEAD marked allowed
        line
        for data in (head_files(root) if head is None else head).values()
        if ALLOW_MARK.encode() in data
        for line in data.splitlines()
        if ALLOW_MARK.encode() in line
    }

    specs = [f"{f.commit}:{f.path}" for f in findings if f.commit and not is_message(f.path)]
    blobs = blob_contents(root, specs)
    messages = messages_of(root, [f.commit for f in findings if f.commit and is_message(f.path)])
    anywhere: dict[bytes, None] = {}
    spans: dict[bytes, set[tuple[int, int]]] = {}  # a line's text → the values' spans in it
    unplaced: dict[bytes, None] = {}
    for finding in findings:
        value = finding.secret.reveal().encode("utf-8")
        long = len(value) >= ANYWHERE_LENGTH and not any(value in line for line in allowed)
        if long:
            anywhere[value] = None
        data = (
            messages.get(finding.commit or "")
            if is_message(finding.path)
            else blobs.get(f"{finding.commit}:{finding.path}")
        )
        if data is None or not 0 <= finding.start < finding.end <= len(data):
            if not long:
                unplaced[value] = None
            continue
        first = data.rfind(b"\n", 0, finding.start) + 1
        last = data.find(b"\n", finding.end)
        line = data[first : len(data) if last == -1 else last]
        if b"==>" in line:  # (git-filter-repo splits an expression at its last "==>")
            anywhere[data[finding.start : finding.end]] = None
            continue
        spans.setdefault(line, set()).add((finding.start - first, finding.end - first))
        if long:
            anywhere[data[finding.start : finding.end]] = None
    lines = []
    for line, found in spans.items():
        new = line
        for start, end in sorted(_outermost(found), reverse=True):
            new = new[:start] + renamed.get(line[start:end], MARKER) + new[end:]
        lines.append((Sensitive(line), Sensitive(new)))
    return Replacements([Sensitive(v) for v in anywhere], lines, len(unplaced))


def _outermost(spans: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` without those inside or overlapping an earlier, longer one."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
        if out and start < out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
            continue
        out.append((start, end))
    return out


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
    from secretkit.scan.allowlist import ALLOW_FILE, forget_fingerprints, load
    from secretkit.scan.history import scan_history

    root = plan.root
    recover(root)  # the repository lock, held until the command ends
    _require_clean(root)  # again: the user may have edited while we asked
    replace = values_to_replace(root, plan.findings, head_files(root))
    roots_before = root_commits(root)
    allowed_before = load(root)  # (its fingerprints are keyed by the root commit)
    _ = allowed_before.key  # (derived now, from the root commit the rewrite replaces)
    backup, backup_refs = create_backup(root)
    _record(root, plan)  # before the rewrite: the checklist outlives the backup refs
    replace_text(
        root,
        replace.anywhere,
        plan.refs,
        replace.lines,
        _in_names(plan.findings),
        _mailmap(root, plan.findings),
    )
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
        and not f.inside  # (in an archive, an LFS object, a binary file: in unrewritten)
        # a value the allowlist allowed before the root commit changed is not new: its
        # entry needs re-creating (the note says so), it was never to be purged
        and not (
            allowed_before.allowed
            and allowed_before.allows(allowed_before.fingerprint(f.secret.reveal()))
        )
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
        too_short=replace.too_short,
        unrewritten=unrewritten,
    )


# --- what the CLI shows ----------------------------------------------------------
def plan_lines(plan: PurgePlan) -> list[Line]:
    """The secrets found and the refs to rewrite (before the confirmation)."""
    from secretkit.commands import err, out
    from secretkit.git.filter_repo import MARKER

    if plan.clean:
        return [out("history holds no plaintext secret; nothing to purge")]
    shown = [out(f"{len(plan.exposed)} secret(s) found in history:")]
    shown += [out(f"  {text}") for text in described(plan.exposed)]
    if plan.in_head:
        files = ", ".join(plan.in_head[:5]) + (" …" if len(plan.in_head) > 5 else "")
        shown += [
            err(
                f"warning: {len(plan.in_head)} file(s) of HEAD still hold such a value "
                f"({files}): the rewrite replaces it there too, and your configuration then "
                f"holds {MARKER.decode()} in its place"
            ),
            err(
                "  to keep it working, move those values into sops first (`secretkit "
                "migrate`, or by hand as `secretkit check` says), commit, then run "
                "secretkit purge"
            ),
        ]
    if plan.renamed_in_head:
        from secretkit.sensitive import preview

        count = len(plan.renamed_in_head)
        shown.append(
            err(
                f"warning: {count} path(s) of HEAD are named with such a value (e.g. "
                f"{_without_tokens(plan.renamed_in_head[0], plan.findings, preview)}): the "
                "rewrite renames them (the value becomes REDACTED-BY-SECRETKIT-<n>); change "
                "what refers to them by path"
            )
        )
    return [*shown, out(f"refs to rewrite: {', '.join(plan.refs)}")]


def _without_tokens(path: str, findings: list[Finding], preview: Callable[[str], str]) -> str:
    """``path`` with each value found in it shown as its preview."""
    for f in findings:
        value = f.secret.reveal()
        if value and value in path:
            path = path.replace(value, preview(value))
    return path


def described(items: list[ExposedSecret]) -> list[str]:
    """Each item's :meth:`~ExposedSecret.describe`; with its preview and line where
    two would read alike (two values once committed in one file)."""
    from collections import Counter

    alike = Counter(item.describe() for item in items)
    return [item.describe(preview=alike[item.describe()] > 1) for item in items]


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
                f"warning: {result.too_short} short value(s) were not replaced: the lines they "
                "were found on could not be read, and replacing them in every file would "
                "corrupt unrelated text; rotate them"
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
    shown.append(out("  2. forks, clones and caches may still hold what was committed; for each:"))
    shown.append(out(f"     {change_first(result.exposed)}:"))
    shown += [out(f"       - {text}") for text in described(result.exposed)]
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
