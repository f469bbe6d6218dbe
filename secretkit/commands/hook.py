"""``secretkit hook [--strict] [--allow-unscanned] [FILE…]``: judge what is about to be
committed, from the index.

It judges what the commit *adds*.  These block a commit (exit 1):

* a plaintext secret the commit introduces: a value in the staged content of a file
  (so a partially staged file is judged by its staged part) that the file's version
  in ``HEAD`` (for a renamed or copied file: its source's) does not hold.  A secret
  that was already in the file before this commit is reported as a warning with its
  way out and does not block — so the migration itself can be committed while one
  hand-fix is pending; ``--strict`` blocks those too;
* a staged file the scanner could not read (its blob is missing), unless
  ``--allow-unscanned`` is given or the allowlist vouches for the path;
* a staged file that a ``.sops.yaml`` creation rule matches but that is not a valid
  sops file: no sops metadata (the classic "committed the decrypted file"), metadata
  that does not parse, or — when an identity here opens the file — a MAC or value
  that does not verify.  Without an identity only the structure is checked, and the
  report says so.

Called by the pre-commit framework with the staged file names; called by the plain
git hook without names (then every added or modified path in the index is judged).
Imports are lazy: the sops engine is loaded only when a staged file matches a rule.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.gate.finding_fix import ALLOW_FILE, fix_for, mark_works
from secretkit.git import require_repo

if TYPE_CHECKING:
    import threading

    from secretkit.gate.sops_verify import SopsProblem
    from secretkit.git.objects import IndexEntry
    from secretkit.layouts.clan import ClanStore
    from secretkit.plan.advice import Refusal
    from secretkit.scan import allowlist
    from secretkit.scan.model import Finding, Skipped
    from secretkit.sensitive import Sensitive


@dataclass
class HookReport:
    """What the hook found in the files a commit adds, and how it ends."""

    files: list[str]
    findings: list[Finding] = field(default_factory=list)  # what the commit adds
    sops_problems: list[SopsProblem] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    preexisting: list[Finding] = field(default_factory=list)  # already in HEAD's file
    unscanned: list[Skipped] = field(default_factory=list)  # not read, not vouched for
    strict: bool = False
    allow_unscanned: bool = False
    # why `migrate` would refuse a finding (by id()); absent: migrate accepts it
    refusals: dict[int, Refusal] = field(default_factory=dict)
    # where a Nix finding goes in a clan's repository (by id())
    clan_stores: dict[int, ClanStore] = field(default_factory=dict)
    # findings (by id()) an allow comment at the end of their line would not silence
    # harmlessly (finding_fix.mark_works): only the allowlist is offered for them
    no_mark: set[int] = field(default_factory=set)
    hashes: list[Finding] = field(default_factory=list)  # password hashes: warned of

    @property
    def blocking(self) -> list[Finding]:
        return self.findings + (self.preexisting if self.strict else [])

    @property
    def blocked(self) -> bool:
        return bool(
            self.blocking or self.sops_problems or (self.unscanned and not self.allow_unscanned)
        )


def run_hook(
    cwd: Path,
    files: Sequence[str] = (),
    *,
    strict: bool = False,
    allow_unscanned: bool = False,
) -> HookReport:
    """Judge the index of the repository containing ``cwd``.

    ``files`` (relative to ``cwd``, as the pre-commit framework passes them) limits
    the judgement to those paths; without it every added, copied, modified or
    type-changed path of the index is judged.  Paths not in the index (deleted)
    are ignored.  ``strict``: secrets a touched file already held in ``HEAD`` block
    too.  ``allow_unscanned``: a staged file that could not be read does not block.
    """
    from secretkit import git
    from secretkit.git.hooks import STAGED_PATHS
    from secretkit.git.objects import INDEX_LISTING

    # The git runs every judgement starts with, started now: they run while the
    # scanner is imported (in the work tree's top, where the pre-commit framework
    # runs hooks; from elsewhere they are ended unused).
    git.start_early(cwd, "rev-parse", "--show-toplevel")
    git.start_early(cwd, *(INDEX_LISTING if files else STAGED_PATHS))
    git.start_early(cwd, "cat-file", "--batch", keep_stderr=False)
    try:
        return _judge(cwd, files, strict=strict, allow_unscanned=allow_unscanned)
    finally:
        git.end_early()


def _judge(cwd: Path, files: Sequence[str], *, strict: bool, allow_unscanned: bool) -> HookReport:
    from secretkit import git
    from secretkit.git import hooks as githooks
    from secretkit.git.objects import SCANNED_MODES, index_entries
    from secretkit.scan import allowlist
    from secretkit.scan.staged import scan_staged

    root = require_repo(cwd)
    listing: list[IndexEntry] | None = None
    if files:
        wanted = [_repo_relative(root, cwd, name) for name in files]
        listing = index_entries(root, modes=SCANNED_MODES)  # the scan reads it too
        present = {entry.path for entry in listing}  # files and symlinks, no gitlinks
        paths = list(dict.fromkeys(p for p in wanted if p in present))
    else:
        paths = githooks.staged_paths(root)
    report = HookReport(files=paths, strict=strict, allow_unscanned=allow_unscanned)
    if (root / ".git" / "secretkit-journal").is_dir() or not (root / ".git").is_dir():
        _interrupted(root, report)  # (a half-done run: its files are about to roll back)
    if not paths:
        return report
    allow = allowlist.load(root, text=_staged_allowlist(root, listing))
    staged: dict[str, bytes] = {}  # the staged bytes the scan read (the planner reads them)
    scanned = scan_staged(root, paths, known_top=True, entries=listing, allow=allow, keep=staged)
    secrets_files = _secrets_files(root, paths)
    # findings an allow comment at the end of their line would not silence harmlessly
    report.no_mark = {
        id(f)
        for f in scanned.findings
        if not mark_works(f.path, f.rule, f.line, staged.get(f.path))
    }
    # The report shows the fingerprint of each finding that only the allowlist can
    # silence, outside a secrets file (scrypt, ~35 ms of CPU, unless the clone's cache
    # has it): computed in a thread (scrypt releases the GIL) while git and the planner
    # answer the rest.  A finding in a secrets file gets no fingerprint when the file
    # is not valid sops (its one fix is to encrypt it): the report computes the others
    # when it shows them.
    shown = [f for f in scanned.findings if f.path not in secrets_files and id(f) in report.no_mark]
    ahead = _fingerprints_ahead(allow, shown) if shown else None
    # a password hash is not the password: a warning, as check gives (crackable offline)
    hashes = [f for f in scanned.findings if f.kind == "password-hash"]
    secrets = [f for f in scanned.findings if f.kind != "password-hash"]
    if secrets:
        # what telling new findings from ones HEAD holds asks git, started while the
        # planner is imported to judge them
        git.start_early(root, "cat-file", "--batch")
        git.start_early(root, *githooks.RENAMES)
    # why migrate would refuse each Nix finding
    report.refusals, report.clan_stores = _refusals(root, secrets, staged)
    head: dict[str, bytes | None] = {}  # HEAD:<path> read so far (None: HEAD has none)
    report.findings, report.preexisting = _split_by_head(root, secrets, head)
    report.hashes = hashes
    report.skipped = list(scanned.skipped)
    report.unscanned = [s for s in report.skipped if not allow.allows_unscanned(s.path)]
    if report.unscanned and allow_unscanned:
        shown_skips = ", ".join(f"{s.path} ({s.reason})" for s in report.unscanned[:5])
        more = f" and {len(report.unscanned) - 5} more" if len(report.unscanned) > 5 else ""
        report.notes.append(f"not scanned for secrets (--allow-unscanned): {shown_skips}{more}")
    if secrets_files:
        _judge_sops_files(root, secrets_files, report)
    _decrypted_copies(root, [p for p in paths if p not in secrets_files], staged, report, head)
    if ahead is not None:
        ahead.join()
    else:
        allow.save_fingerprints()  # the scan's allowlist checks may have made some
    return report


def _staged_allowlist(root: Path, listing: list[IndexEntry] | None) -> str:
    """The allowlist as the commit will hold it: the index's ``.secretkit-allow`` (""
    when the index has none: an untracked file allows nothing in what is pushed).  The
    work tree's file is read when its bytes are the staged blob (no git call)."""
    from secretkit.git.objects import blob_id, index_entries

    file = root / ALLOW_FILE
    if listing is None and not file.is_file():
        return ""  # (no file: the index's, if any, is being deleted or was never there)
    entries = listing if listing is not None else index_entries(root, [ALLOW_FILE])
    entry = next((e for e in entries if e.path == ALLOW_FILE and e.stage == 0), None)
    if entry is None:
        return ""
    try:
        data = file.read_bytes()
    except OSError:
        data = None
    if data is not None and blob_id(data, entry.oid) == entry.oid:
        return data.decode("utf-8", "replace")
    from secretkit.git import hooks as githooks

    staged = githooks.index_contents(root, [ALLOW_FILE]).get(ALLOW_FILE, b"")
    return staged.decode("utf-8", "replace")


def _fingerprints_ahead(allow: allowlist.Allowlist, findings: list[Finding]) -> threading.Thread:
    """Start computing the fingerprints of ``findings`` in a thread
    (:func:`secretkit.scan.model.fingerprint_all`: each distinct value once, looked up
    in the clone's cache first) and saving the new ones to that cache (the scan's own
    allowlist checks may have made some too).  The caller joins the thread before
    anything reads a fingerprint."""
    import contextlib
    import threading

    from secretkit.scan.model import fingerprint_all

    # the key and the clone's cache here: the thread then holds the interpreter only
    # for the moment it takes to reach the scrypts (which release it)
    with contextlib.suppress(Exception):  # (an error is met again where it is reported)
        allow.prepare()

    def compute() -> None:
        # an error here is met again (and reported) when the report reads a fingerprint
        with contextlib.suppress(Exception):
            fingerprint_all(findings)
        with contextlib.suppress(Exception):  # a cache not written costs a scrypt next time
            allow.save_fingerprints()

    thread = threading.Thread(target=compute, name="secretkit-fingerprints", daemon=True)
    thread.start()
    return thread


@dataclass(frozen=True)
class _Place:
    """A finding as the planner sees it, without its fingerprint: whether ``migrate``
    would move it does not depend on it, and reading it here would compute it twice
    (the fingerprints thread is on it)."""

    path: str
    line: int
    start: int
    end: int
    secret: Sensitive[str]


def _head_blobs(root: Path, specs: list[str], head: dict[str, bytes | None]) -> dict[str, bytes]:
    """The blobs ``HEAD:<path>`` names (those HEAD holds), each asked of git once per
    hook run (``head`` remembers what was asked)."""
    asking = [s for s in specs if s not in head]
    if asking:
        from secretkit.git import hooks as githooks

        found = githooks.blob_contents(root, asking)
        head.update({s: found.get(s) for s in asking})
    return {s: data for s in specs if (data := head.get(s)) is not None}


def _split_by_head(
    root: Path, findings: list[Finding], head: dict[str, bytes | None]
) -> tuple[list[Finding], list[Finding]]:
    """``(added, preexisting)``: a finding whose value the file's ``HEAD`` version
    already holds was not introduced by this commit.  A file ``HEAD`` does not hold may
    be renamed or copied from one it holds (``git diff`` is asked only then: git pairs
    a rename or copy only with a path that is new)."""
    if not findings:
        return [], []
    from secretkit.git import hooks as githooks
    from secretkit.scan.one_file import scan_bytes

    paths = sorted({f.path for f in findings})
    sources = {path: path for path in paths}
    before = _head_blobs(root, [f"HEAD:{p}" for p in paths], head)
    new = [p for p in paths if f"HEAD:{p}" not in before]
    if new:
        origin = githooks.renamed_from(root)  # a moved file held what it holds before
        moved = {p: origin[p] for p in new if p in origin}
        if moved:
            sources.update(moved)
            before.update(_head_blobs(root, [f"HEAD:{s}" for s in moved.values()], head))
    held: dict[str, set[str]] = {}
    for path in paths:
        data = before.get(f"HEAD:{sources[path]}")
        old, _skip = scan_bytes(sources[path], data) if data is not None else ([], None)
        held[path] = {f.secret.reveal() for f in old}
    added = [f for f in findings if f.secret.reveal() not in held[f.path]]
    kept = [f for f in findings if f.secret.reveal() in held[f.path]]
    return added, kept


def _refusals(
    root: Path, findings: list[Finding], staged: dict[str, bytes]
) -> tuple[dict[int, Refusal], dict[int, ClanStore]]:
    """Why ``migrate`` would refuse each Nix finding: by the hosts that use the file,
    then the literal judged on the staged content (alone, then among the hosts' other
    modules); and in a clan's repository, where migrate writes no second layout, how
    each one it would take is moved."""
    nix = [f for f in findings if f.path.endswith(".nix")]
    if not nix:
        return {}, {}
    from secretkit.git import hooks as githooks
    from secretkit.plan.advice import Refusal, migrate_refusal, repo_pin

    missing = sorted({f.path for f in nix} - staged.keys())
    if missing:
        staged = {**staged, **githooks.index_contents(root, missing)}
    pin = repo_pin(lambda name: _read_file(root / name))  # the release migrate would read
    from secretkit.nix.hosts import discover
    from secretkit.plan.advice import host_refusal, host_values, hosts_refusal, value_refusal

    inventory = discover(root)

    def read(name: str) -> bytes | None:
        return staged[name] if name in staged else _read_file(root / name)

    out: dict[int, Refusal] = {}
    for finding in nix:
        # as migrate and check decide: first by the hosts using the file (a home-manager
        # module's route is not a NixOS one), then the literal
        data = staged.get(finding.path)
        place = _Place(finding.path, finding.line, finding.start, finding.end, finding.secret)
        host = hosts_refusal(inventory, finding.path, data, place, pin, read)
        if host is not None:
            out[id(finding)] = host
            continue
        # a file imported for its value is no module: the route goes through its importer
        valued = value_refusal(inventory, finding.path, finding.attrpath or "", read)
        if valued is not None and host_refusal(inventory, finding.path) is None:
            out[id(finding)] = valued
            continue
        reason = (
            Refusal("unreadable")
            if data is None
            else migrate_refusal(finding.path, data, place, pin, inventory=inventory)
        )
        if reason is not None:
            out[id(finding)] = reason
    accepted = [f for f in nix if id(f) not in out]
    if accepted:
        values = None
        for finding in accepted:
            # then as migrate judges it among its hosts' other modules (an option
            # another module sets already: refused), read as migrate reads them
            if values is None:
                values = host_values(root, inventory, lambda name: _read_file(root / name))
            data = staged[finding.path]
            place = _Place(finding.path, finding.line, finding.start, finding.end, finding.secret)
            hosts = sorted(inventory.hosts_at(finding.path, finding.start))
            reason = migrate_refusal(
                finding.path, data, place, pin, hosts=hosts, values=values, inventory=inventory
            )
            if reason is not None:
                out[id(finding)] = reason
    if not any((root / "sops" / kind).is_dir() for kind in ("machines", "users")):
        return out, {}  # (no clan: layouts.clan is not imported, the hook's start-up)
    from secretkit.layouts.clan import clan_store, read_clan

    if read_clan(root, []) is None:
        return out, {}
    stores = {}
    for f in nix:
        machines = inventory.clan_machines_of_file(f.path)
        others = inventory.hosts_of_file(f.path) - machines
        stores[id(f)] = clan_store(f.attrpath, f.path, machines, others)
    return out, stores


def _read_file(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _repo_relative(root: Path, cwd: Path, name: str) -> str:
    absolute = os.path.normpath(os.path.join(cwd, name))
    return os.path.relpath(absolute, root).replace(os.sep, "/")


def _secrets_files(root: Path, paths: Sequence[str]) -> list[str]:
    """The staged ``paths`` a creation rule of the ``.sops.yaml`` in force matches."""
    if not os.environ.get("SOPS_CONFIG"):
        try:
            text = (root / ".sops.yaml").read_bytes()
        except OSError:
            return []
        from secretkit.sops.config import might_name_secrets_files

        if not might_name_secrets_files(text, paths):
            return []  # the common commit: no need to load the YAML parser and the engine
    from secretkit.gate.sops_verify import names_a_secrets_file
    from secretkit.sops.config import find_config

    config = find_config(root)
    if config is None:
        return []
    return [p for p in paths if names_a_secrets_file(config, root / p)]


def _judge_sops_files(root: Path, matched: Sequence[str], report: HookReport) -> None:
    """Add a :class:`SopsProblem` for each staged rule-matched file that is not valid."""
    from secretkit.gate.sops_verify import SopsJudge
    from secretkit.git import hooks as githooks

    blobs = githooks.index_contents(root, matched)
    judge = SopsJudge(root=root)
    for path in matched:
        data = blobs.get(path)
        if data is None:
            continue
        problem = judge.judge(path, data)
        if problem is not None:
            report.sops_problems.append(problem)
    report.notes.extend(judge.notes())


_PLAIN_FORMATS = (".yaml", ".yml", ".json", ".env", ".ini")


def _decrypted_copies(
    root: Path,
    paths: Sequence[str],
    staged: dict[str, bytes],
    report: HookReport,
    head: dict[str, bytes | None],
) -> None:
    """Decrypted copies no creation rule names, as ``check``'s ``decrypted-copy`` point
    finds them: a file named as one (``*.dec.*``, ``*.decrypted.*``), and a file HEAD
    holds as a sops file that is staged without its encryption (a catch-all creation
    rule, or none: the scanner's name rules may see nothing in its values).  HEAD's
    versions are read only of staged files that are no sops file (one git call, or
    none when the findings' check read them)."""
    import shlex

    from secretkit.gate.decrypted_copies import named_decrypted

    for path in filter(named_decrypted, paths):
        quoted = shlex.quote(path)
        report.sops_problems.append(
            _problem(
                path,
                "is named as a decrypted copy of a sops file",
                f"unstage and delete it: git rm -q --cached {quoted} && rm {quoted} (the "
                "sops file holds its values; to keep it locally, add it to .gitignore)",
            )
        )
    candidates = [
        p
        for p in paths
        if p.lower().endswith(_PLAIN_FORMATS)
        and p in staged
        and not (b"sops" in staged[p] and b"ENC[" in staged[p])
    ]
    if not candidates:
        return
    before = _head_blobs(root, [f"HEAD:{p}" for p in candidates], head)
    for path in candidates:
        old = before.get(f"HEAD:{path}")
        if old is None or b"sops" not in old or b"ENC[" not in old:
            continue
        from secretkit.sops.document import format_for_path, is_sops_file

        fmt = format_for_path(path)
        if is_sops_file(old, fmt) and not is_sops_file(staged[path], fmt):
            quoted = shlex.quote(path)
            report.sops_problems.append(
                _problem(
                    path,
                    "is a sops file in HEAD and is staged without its encryption: a "
                    "decrypted secrets file",
                    f"put the encrypted version back: git restore --staged --worktree "
                    f"--source=HEAD -- {quoted}; change its values with secretkit edit {quoted}",
                )
            )
    flagged = {problem.path for problem in report.sops_problems}
    _same_keys(root, [p for p in candidates if p not in flagged], staged, report)


def _same_keys(
    root: Path, candidates: Sequence[str], staged: dict[str, bytes], report: HookReport
) -> None:
    from secretkit.gate.decrypted_copies import staged_copies

    for path, reason, fix in staged_copies(root, candidates, staged, _PLAIN_FORMATS):
        report.sops_problems.append(_problem(path, reason, fix))


def _interrupted(root: Path, report: HookReport) -> None:
    """An interrupted secretkit run's journal blocks the commit, as it fails check: what
    is staged may be half of that run, and the next writing command rolls it back."""
    from secretkit.gate.interrupted import interrupted_run

    for result in interrupted_run(root):
        shown = result.message.removeprefix("cannot verify: ")
        report.sops_problems.append(_problem(".git/secretkit-journal", shown, result.fix))


def _problem(path: str, reason: str, fix: str) -> SopsProblem:
    from secretkit.gate.sops_verify import SopsProblem  # (only with a problem: its imports)

    return SopsProblem(path, reason, fix)


def render(report: HookReport) -> list[str]:
    """The hook's text output: one line per problem and its fix (no secret values)."""
    lines: list[str] = []
    unscanned = [] if report.allow_unscanned else report.unscanned
    if report.blocked:
        count = len(report.blocking) + len(report.sops_problems) + len(unscanned)
        lines.append(f"secretkit: commit blocked ({count} problem{'s' if count != 1 else ''})")
    # A decrypted secrets file has one fix (encrypt it, below); offering to allowlist
    # each of its values would point the user the wrong way.
    secrets_files = {problem.path for problem in report.sops_problems}
    for finding in report.blocking:
        old = " (already in HEAD; --strict)" if finding in report.preexisting else ""
        lines.append(_finding_line(finding) + old)
        lines.append(f"  fix: {_fix(report, finding, secrets_files)}")
    for skip in unscanned:
        import shlex

        from secretkit.git.lfs import MISSING_OBJECT
        from secretkit.scan.names import glob_of
        from secretkit.scan.one_file import partly_read

        what = "not read whole" if partly_read(skip.reason) else "cannot scan it"
        lines.append(f"{skip.path}: {what} ({skip.reason})")
        restore = (
            "restore it (git lfs fetch, or git lfs pull; git-lfs must be installed)"
            if skip.reason.startswith(MISSING_OBJECT)
            else f"fix its syntax (nix-instantiate --parse {shlex.quote(skip.path)} shows "
            "where) and git add it again"
            if partly_read(skip.reason)
            else "restore it (git fetch --refetch, or git add it again)"
        )
        lines.append(
            f"  fix: {restore}; or, if you vouch for it, allowlist the path "
            f"(echo 'path:{glob_of(skip.path)}' >> {ALLOW_FILE} && git add "
            f"{ALLOW_FILE}) or run "
            "the hook with --allow-unscanned"
        )
    for problem in report.sops_problems:
        lines.append(f"{problem.path}: {problem.reason}")
        lines.append(f"  fix: {problem.fix}")
    for finding in report.hashes:
        lines.append(
            f"warning: {_finding_line(finding)}: a password hash, not the password; it is "
            "crackable offline, so publish it only on purpose (not blocking)"
        )
    if not report.strict:
        for finding in report.preexisting:
            lines.append(
                f"warning: {_finding_line(finding)}: already in HEAD, not added by this "
                "commit (not blocking; `secretkit hook --strict` blocks it)"
            )
            lines.append(f"  fix: {_fix(report, finding, secrets_files)}")
    if report.blocked:
        lines.append("(bypass once, if you are sure: git commit --no-verify)")
    return lines


def _finding_line(finding: Finding) -> str:
    where = f" at {finding.attrpath}" if finding.attrpath else ""
    return (
        f"{finding.path}:{finding.line}:{finding.column}: {finding.rule} "
        f"({finding.severity}) {finding.preview!r}{where}"
    )


def _fix(report: HookReport, finding: Finding, secrets_files: set[str]) -> str:
    if finding.path in secrets_files:
        return "this file must be encrypted: see its fix below"
    refused = report.refusals.get(id(finding))
    mark = id(finding) not in report.no_mark
    if refused is None:
        clan = report.clan_stores.get(id(finding))
        return fix_for(finding, None, None, None, mark=mark, clan=clan)
    reason, builder, manual, declare_in, hashed, own_file, steps = refused
    return fix_for(
        finding,
        reason,
        builder,
        manual,
        mark=mark,
        declare_in=declare_in,
        hashed=hashed,
        own_file=own_file,
        clan=report.clan_stores.get(id(finding)),
        steps=steps,
    )
