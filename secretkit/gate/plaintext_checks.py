"""The gate's points on plaintext secrets: ``plaintext-tree`` (the work tree) and
``plaintext-history`` (every commit, tag and local ref).  A file the scanner could
not read fails the point unless the allowlist vouches for it."""

from __future__ import annotations

import shlex
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.gate.history_findings import ExposedSecret, change_first
from secretkit.gate.model import CheckResult
from secretkit.gate.unverified import unverified
from secretkit.git import run_git
from secretkit.nix.catalogue.users import user_password
from secretkit.sensitive import shown_name

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from secretkit.gate.context import CheckContext, SopsEntry
    from secretkit.scan.model import Finding


def check_plaintext_tree(ctx: CheckContext) -> list[CheckResult]:
    from secretkit.scan.allowlist import load
    from secretkit.scan.worktree import scan_tree

    report = scan_tree(ctx.root, use_cache=True)
    results = []
    for f in report.findings:
        where = f" at {f.attrpath}" if f.attrpath else ""
        place = f"{f.path}:{f.line}:{f.column}"
        if f.kind == "password-hash":
            fix = _fix_for(ctx, f) if f.path.endswith(".nix") else None
            named = (f.attrpath or "").endswith("hashedPassword")  # (an htpasswd: a template)
            keep = (
                "to keep it private: secretkit migrate"
                + (" (hashedPassword → hashedPasswordFile)" if named else "")
                if fix is not None and fix.startswith("run `secretkit migrate`")
                else "to keep it private: move it into a sops file by hand (migrate has no "
                "route for it), or allowlist it if it is meant to be public"
            )
            results.append(
                _hash_warning("plaintext-tree", f"{place} {f.preview!r}{where}", keep, f.path)
            )
            continue
        results.append(
            CheckResult(
                "plaintext-tree",
                False,
                f"plaintext secret {place}: {f.rule} {f.preview!r}{where}",
                _fix_for(ctx, f),
                (f.file,),
            )
        )
    results.extend(
        unverified("plaintext-tree", report.skipped, load(ctx.root), ctx.root, git=not ctx.walk)
    )
    results.extend(_purge_markers(ctx))
    if not any(not r.ok for r in results):
        results.insert(0, CheckResult("plaintext-tree", True, "no plaintext secret in the tree"))
    return results


def _purge_markers(ctx: CheckContext) -> list[CheckResult]:
    """The tracked lines holding purge's marker: a value the configuration still used
    when purge replaced it (the configuration now uses the marker)."""
    if ctx.walk:
        return []
    from secretkit.git.filter_repo import MARKER
    from secretkit.scan.hits import ALLOW_MARK

    marker = MARKER.decode()
    proc = run_git(ctx.root, "grep", "-n", "-I", "-F", "-z", "-e", marker, check=False)
    results = []
    for entry in proc.stdout.decode("utf-8", "surrogateescape").splitlines():
        path, line, text = [*entry.split("\0", 2), "", ""][:3]
        if ALLOW_MARK in text:
            continue
        results.append(
            CheckResult(
                "plaintext-tree",
                False,
                f"{path}:{line} holds {marker}, which purge put in place of a secret still in "
                "use: the configuration now uses the marker as its value",
                "store the real value in a sops file (`secretkit set secrets/<host>.yaml "
                "'[\"<name>\"]'` reads it from stdin) and point the option at it instead of "
                "the marker (a new value if the old history was ever pushed); if the line "
                f"is meant to hold it, end it with a `# {ALLOW_MARK}` comment",
                (path,),
            )
        )
    return results


def _clear_by_rule(entry: SopsEntry, finding: Finding) -> str:
    """The way out for a secret a sops file keeps in clear because its own crypt rule
    says so (``unencrypted_suffix: _plain``): nothing was edited without sops, so
    restoring changes nothing; the value must move under a key sops encrypts."""
    from secretkit.scan.allowlist import ALLOW_FILE

    rule = entry.sops.metadata.crypt_rule
    how = f"{rule.kind}: {rule.value}" if rule is not None else "its crypt rule"
    lines = entry.data.decode("utf-8", "replace").splitlines()
    here = lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""
    key = here.split(":", 1)[0].strip().strip("\"'") if ":" in here else ""
    name = finding.attrpath or key or "it"
    if finding.secret.reveal() in name or shown_name(name) != name:
        name = "its key"  # (the key is the token itself: never printed)
    return (
        f"the file's sops metadata leaves {name} in clear ({how}): move the value under a "
        f"key sops encrypts (secretkit edit {shlex.quote(entry.path)}), and the Nix that "
        f"reads the old key with it; if it is not a secret, allowlist it: echo FINGERPRINT "
        f">> {ALLOW_FILE} && git add {ALLOW_FILE} (`secretkit scan --format json` gives "
        "the fingerprint)"
    )


def _fix_for(ctx: CheckContext, finding: Finding) -> str:
    """The way out for one finding: ``migrate`` only when its planner accepts it."""
    from secretkit.gate.finding_fix import fix_for, mark_works
    from secretkit.plan.advice import hosts_refusal, migrate_refusal, repo_pin, value_refusal

    entry = ctx.sops_by_path().get(finding.path)
    if entry is not None:  # a value in clear in a sops file
        if ctx.judge.structure(entry.path, entry.sops) is None:
            return _clear_by_rule(entry, finding)  # (its own crypt rule leaves it so)
        return ctx.judge.restore(finding.path)
    refusal, builder, manual, declare_in, hashed = None, None, None, None, False
    steps: tuple[str, ...] = ()
    own_file = None
    source = ctx.read(finding.path) if finding.path.endswith(".nix") else None
    if finding.path.endswith(".nix"):
        if source is None:
            refusal = "unreadable"
        else:  # as migrate decides: first by the hosts using the file, then the literal
            hosts = hosts_refusal(
                ctx.inventory(), finding.path, source, finding, repo_pin(ctx.read), ctx.read
            )
            if hosts is not None:
                refusal, builder, own_file = hosts.reason, hosts.builder, hosts.own_file
                hashed = user_password(finding.attrpath)  # (its route: hashedPasswordFile)
            valued = None
            if refusal is None:  # a file imported for its value: no module, whatever it sets
                valued = value_refusal(
                    ctx.inventory(), finding.path, finding.attrpath or "", ctx.read
                )
            if valued is not None:
                refusal, builder, manual, declare_in, hashed, _, steps = valued
            elif refusal is None:
                advice = migrate_refusal(
                    finding.path,
                    source,
                    finding,
                    repo_pin(ctx.read),
                    hosts=sorted(ctx.inventory().hosts_at(finding.path, finding.start)),
                    values=ctx.host_values(),  # (an option another module sets: refused)
                    inventory=ctx.inventory(),
                )
                if advice is not None:
                    refusal, builder, manual, declare_in, hashed, _, steps = advice
    if not finding.path.endswith(".nix"):  # read by Nix code? then not encrypted in place
        from secretkit.gate.finding_fix import WHOLE_FILE_RULE
        from secretkit.plan.refusals import nix_reader_route

        def sops_file(module: str) -> str:
            return _hosts_file(ctx, sorted(ctx.inventory().hosts_of_file(module)))

        read = nix_reader_route(finding.path, ctx.nix_sources(), sops_file)
        # a file that is one secret, handed to an option: its own fix says it all
        if read is not None and (read[0] == "eval" or finding.rule != WHOLE_FILE_RULE):
            manual = read[1]
    mark = mark_works(finding.path, finding.rule, finding.line, source)
    clan = None
    if finding.path.endswith(".nix") and ctx.clan() is not None:
        from secretkit.layouts.clan import clan_store

        users = ctx.inventory().clan_machines_of_file(finding.path)
        others = ctx.inventory().hosts_of_file(finding.path) - users
        clan = clan_store(finding.attrpath, finding.path, users, others)
    # (the hosts migrate stores the module's values for: its own switch turned on)
    readers = sorted(ctx.inventory().config_users(finding.path)) if source is not None else []
    return fix_for(
        finding,
        refusal,
        builder,
        manual,
        mark=mark,
        git=not ctx.walk,
        declare_in=declare_in,
        hashed=hashed,
        own_file=own_file,
        clan=clan,
        steps=steps,
        # (migrate's own steps name the one host's file: its defaultSopsFile, …)
        sops_file=_hosts_file(ctx, readers),
    )


def _hosts_file(ctx: CheckContext, hosts: list[str]) -> str:
    """The sops file migrate would store a value of ``hosts`` in (a host's
    defaultSopsFile …): one file, each host's own, or the pattern when none is known."""
    if not hosts:
        return "secrets/<host>.yaml"
    files = {host: ctx.targets().route_file(host) for host in hosts}
    if len(set(files.values())) == 1:
        return files[hosts[0]]
    each = ", ".join(f"{file} for {host}" for host, file in sorted(files.items())[:4])
    return f"<each host's own: {each}{', …' if len(files) > 4 else ''}>"


def _hash_warning(check_id: str, shown: str, keep: str, path: str) -> CheckResult:
    why = "not the password, but crackable offline; publish it only on purpose"
    return CheckResult(
        check_id, True, f"warning: password hash {shown}: {why}", keep, (path,), warning=True
    )


def check_plaintext_history(ctx: CheckContext) -> list[CheckResult]:
    from secretkit.gate.history_findings import group_findings, live_findings
    from secretkit.git.filter_repo import list_refs
    from secretkit.scan.allowlist import load
    from secretkit.scan.history import scan_history
    from secretkit.scan.names import REF_PREFIX

    report = scan_history(ctx.root, progress=ctx.progress, every_ref=True)
    # (a ref's name: _ref_names says how to rename it)
    findings = [f for f in report.findings if not f.path.startswith(REF_PREFIX)]
    ctx.committed = {f.secret.reveal() for f in findings}
    refs = list_refs(ctx.root)
    shared = [r for r in refs if r.startswith(_PUBLISHED_REFS)]
    if _head_commit(ctx.root) is not None:
        shared.append("HEAD")
    live = live_findings(ctx.root, findings, shared)
    # (a finding named again where the refs hold its blob is a new object: the place
    # it was found at, a ref that is not shared, is then reported as holding it too)
    live_ids = {id(f) for f in live}
    results: list[CheckResult] = _ref_names(ctx.root, refs)
    hashes = [f for f in live if f.kind == "password-hash"]
    for item in group_findings(hashes):
        keep = (
            "to keep it private: change that password (history keeps the hash), or remove it "
            "from history with `secretkit purge --yes` and force-push"
        )
        shown = item.describe(preview=True)
        results.append(_hash_warning("plaintext-history", shown, keep, item.paths[0]))
    from secretkit.scan.history import ref_removal, tag_of

    tagged = [f for f in live if tag_of(f.path) is not None and f.kind != "password-hash"]
    for ref in dict.fromkeys(tag_of(f.path) or "" for f in tagged):
        what, delete = ref_removal(ref)
        pushed = ref.removeprefix("refs/tags/")
        remotes = (
            ""  # purge's backups are never pushed but by --mirror
            if what.startswith("backup")
            else f" (and on each remote it was pushed to: git push --delete <remote> {pushed})"
        )
        items = group_findings([f for f in tagged if tag_of(f.path) == ref])
        results.append(
            CheckResult(
                "plaintext-history",
                False,
                f"{what} holds {len(items)} secret(s) no commit holds (in a blob or tree it "
                f"points at, or a tag's message): {'; '.join(i.describe() for i in items[:3])}",
                f"{change_first(items)}, then delete the {what.split()[0]}: {delete}{remotes}",
                tuple(dict.fromkeys(p for i in items for p in i.paths)),
            )
        )
    committed = [f for f in live if f.kind != "password-hash" and tag_of(f.path) is None]
    results += _committed(ctx.root, [f for f in committed if not f.inside])
    results += _unpurgeable([f for f in committed if f.inside])
    results += _held_by_other_refs(ctx.root, [f for f in findings if id(f) not in live_ids])
    from secretkit.scan.history import SHALLOW

    skipped = [s for s in report.skipped if s.path != SHALLOW]  # (_partial_history: its way)
    results.extend(unverified("plaintext-history", skipped, load(ctx.root), ctx.root))
    results.extend(_partial_history(ctx.root))
    results.extend(_purged_not_rotated(ctx))
    if not any(not r.ok for r in results):
        results.insert(0, CheckResult("plaintext-history", True, "no plaintext secret in history"))
    return results


def _unpurgeable(findings: list[Finding]) -> list[CheckResult]:
    """Secrets committed inside a compressed file or archive, or in an LFS object:
    ``purge`` rewrites text in blobs, which cannot reach them, so the way out is to
    take the whole file out of history."""
    from secretkit.gate.history_findings import group_findings

    results = []
    for item in group_findings(findings):
        files = list(dict.fromkeys(f.file for f in findings if f.path in item.paths))
        # (--path=: a name may start with "-"; --force: filter-repo refuses a clone that
        # is not fresh otherwise, and this one is the user's own, to be force-pushed)
        where = " ".join(shlex.quote(f"--path={file}") for file in files)
        results.append(
            CheckResult(
                "plaintext-history",
                False,
                f"a secret was committed: {item.describe(preview=True)} ({item.commits} "
                "commit(s)), inside a compressed file, an archive, an LFS object or a binary "
                "file (which git-filter-repo does not rewrite)",
                f"{change_first([item])}, then remove the file from every commit "
                f"(git filter-repo --force --replace-refs delete-no-add --invert-paths {where}: "
                "it rewrites every branch and keeps no backup; `secretkit purge` cannot "
                "rewrite inside such a file) and force-push",
                tuple(files),
            )
        )
    return results


def _purged_not_rotated(ctx: CheckContext) -> list[CheckResult]:
    """A warning while values a purge removed are not known to be rotated: publishing
    the rewritten history leaks nothing, but a history pushed before the purge did."""
    from secretkit.gate.exposed_record import purged_unrotated

    unrotated, unchecked = purged_unrotated(ctx.root, ctx.judge.identities())
    if not unrotated:
        return []
    entries = [entry for entry, _ in unrotated]
    names = [entry.names[0] for entry in entries]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    stored = [p.name for _, places in unrotated for p in places]
    example = stored[0] if stored else "NAME"
    unknown = (
        f" ({len(unchecked)} sops file(s) no identity here opens may hold rotated ones)"
        if unchecked
        else ""
    )
    return [
        CheckResult(
            "plaintext-history",
            True,
            f"warning: {len(entries)} value(s) were committed in plaintext before a purge "
            "and not rotated: rotate them before publishing if the old history was ever "
            f"pushed (secretkit exposed lists each one){unknown}: {shown}",
            f"secretkit rotate value {example} --from-stdin (the provider's new value) or "
            "--kind KIND, for each value in a sops file; a value in no file: change it at "
            "its provider, then secretkit exposed --rotated FINGERPRINT (secretkit exposed "
            "lists each one with its fingerprint)",
            tuple(dict.fromkeys(p for entry in entries for p in entry.paths)),
            warning=True,
        )
    ]


# Refs whose commits are the repository's history proper (what a push publishes).
_PUBLISHED_REFS = ("refs/heads/", "refs/tags/", "refs/remotes/")


def _partial_history(root: Path) -> list[CheckResult]:
    """A shallow clone or a graft file: git walks less history, or other parents,
    than the repository publishes, so what the walk did not see is "cannot verify"."""
    out = []
    shallow = run_git(root, "rev-parse", "--is-shallow-repository", check=False)
    if shallow.returncode == 0 and shallow.stdout.strip() == b"true":
        out.append(
            CheckResult(
                "plaintext-history",
                False,
                "cannot verify: this is a shallow clone; the history behind its boundary "
                "was not read",
                "fetch the whole history (git fetch --unshallow) and run secretkit check again",
            )
        )
    common = run_git(root, "rev-parse", "--git-common-dir", check=False)
    base = Path(common.stdout.decode("utf-8", "surrogateescape").strip())
    if common.returncode == 0 and ((root / base) / "info" / "grafts").exists():
        out.append(
            CheckResult(
                "plaintext-history",
                False,
                "cannot verify: .git/info/grafts changes which parents git walks, so the "
                "history was read as the grafts show it, not as it is published",
                "remove .git/info/grafts (or make it replace refs, which the scan looks "
                "through: git replace --convert-graft-file) and run secretkit check again",
            )
        )
    return out


def _committed(root: Path, findings: list[Finding]) -> list[CheckResult]:
    """A secret the published history holds: ``purge`` rewrites the local branches and
    tags; one only remote-tracking refs hold (a branch never checked out here) is on
    that remote already, and is deleted there, not purged."""
    from secretkit.gate.history_findings import group_findings
    from secretkit.git.refs import refs_containing
    from secretkit.scan.allowlist import ALLOW_FILE

    local = _locally_reachable(root, {f.commit for f in findings if f.commit})
    held_here = _local_blobs(root)
    results = []
    items = group_findings(findings)
    alike = Counter(i.describe(preview=True) for i in items)  # (told apart by a commit)
    for item in items:
        mine = [f for f in findings if f.fingerprint == item.fingerprint]
        commits = {f.commit for f in mine if f.commit}
        alone = alike[item.describe(preview=True)] == 1 or not commits
        shown = (
            f"a secret was committed: {item.describe(preview=True)} (written by "
            f"{item.commits} commit(s){'' if alone else ', e.g. ' + min(commits)[:12]})"
        )
        remote: list[str] = []
        if commits and not commits & local and not held_here(mine):
            held = {r for c in commits for r in refs_containing(root, c)}
            remote = sorted(
                r for r in held if r.startswith("refs/remotes/") and not r.endswith("/HEAD")
            )
        if remote:
            results.append(_remote_only(root, shown, remote, item))
            continue
        results.append(
            CheckResult(
                "plaintext-history",
                False,
                shown,
                f"{change_first([item])}, then `secretkit purge --yes` to remove it from "
                "history and force-push; if a value is not a secret, allowlist it: echo "
                f"FINGERPRINT >> {ALLOW_FILE} && git add {ALLOW_FILE} (`secretkit scan "
                "--history --format json` gives each finding's fingerprint)",
                item.paths,
            )
        )
    return results


def _local_blobs(root: Path) -> Callable[[list[Finding]], bool]:
    """Whether a local branch, tag or HEAD reaches a blob of the findings given (of one
    value) through another commit than the one each was found at: a squash merge adds
    a branch's blob to main in a commit of its own, and a finding names the oldest.
    Every object the local refs reach is listed once, when first asked."""
    from secretkit.git.filter_repo import blob_ids, reachable_objects

    objects: list[set[str]] = []

    def held(findings: list[Finding]) -> bool:
        if not objects:
            heads = ["--branches", "--tags"] + (["HEAD"] if _head_commit(root) else [])
            objects.append(reachable_objects(root, heads))
        ids = blob_ids(root, [f"{f.commit}:{f.path}" for f in findings if f.commit])
        return any(oid in objects[0] for oid in ids.values())

    return held


def _locally_reachable(root: Path, commits: set[str]) -> set[str]:
    """The ``commits`` the local branches, tags and HEAD reach (what purge rewrites)."""
    if not commits:
        return set()
    remote = run_git(root, "for-each-ref", "--count=1", "--format=x", "refs/remotes/")
    if not remote.stdout.strip():
        return commits  # (no remote-tracking ref: the shared refs are local ones)
    heads = ["--branches", "--tags"] + (["HEAD"] if _head_commit(root) is not None else [])
    proc = run_git(root, "rev-list", *heads, "--", check=False)
    reached = set(proc.stdout.decode().split())
    return commits & reached if proc.returncode == 0 else commits


def _remote_only(root: Path, shown: str, named: list[str], item: ExposedSecret) -> CheckResult:
    """Commits only remote-tracking refs hold: published there already, so rotating is
    what protects it; deleting the branch there (the push also drops the tracking ref
    here) takes it out of what this clone publishes."""
    from secretkit.git.refs import remote_branch

    commands, pushes = [], []
    for ref in named:
        place = remote_branch(root, ref)
        if place is not None and _local_branch(root, place[1]):
            # the branch purge rewrote here: pushing it replaces the remote's history (a
            # deleted branch would be lost to everyone)
            remote, branch = (shlex.quote(part) for part in place)
            pushes.append(f"git push --force {remote} {branch}")
            continue
        delete = f"git update-ref -d {shlex.quote(ref)}"
        if place is not None:  # (update-ref after a push that dropped it: no-op, exit 0)
            remote, branch = (shlex.quote(part) for part in place)
            delete = f"git push {remote} --delete {branch} && {delete}"
        commands.append(delete)
    where = ", ".join(r.removeprefix("refs/remotes/") for r in named)
    steps = []
    if pushes:
        steps.append(f"push the purged branch over it: {' && '.join(pushes)}")
    if commands:
        steps.append(f"delete the branch there and here: {' && '.join(commands)}")
    return CheckResult(
        "plaintext-history",
        False,
        f"{shown}, only on {where}: published there already (purge rewrites only local "
        "branches and tags)",
        f"{change_first([item])} (the remote has it), then {'; '.join(steps)}",
        item.paths,
    )


def _local_branch(root: Path, branch: str) -> bool:
    """Whether ``refs/heads/<branch>`` exists (what purge rewrote, for a remote's branch
    of the same name)."""
    proc = run_git(root, "show-ref", "--verify", "--quiet", f"refs/heads/{branch}", check=False)
    return proc.returncode == 0


def _head_commit(root: Path) -> str | None:
    proc = run_git(root, "rev-parse", "--verify", "-q", "HEAD^{commit}", check=False)
    return proc.stdout.decode().strip() or None if proc.returncode == 0 else None


def _held_by_other_refs(root: Path, findings: list[Finding]) -> list[CheckResult]:
    """Secrets only local refs still hold (purge backups, stashes, notes, others): each
    such ref fails with the exact command that removes it."""
    from secretkit.gate.history_findings import group_findings
    from secretkit.git.refs import (
        UNREACHABLE,
        WORKTREE,
        ref_group,
        refs_containing,
        removal_command,
        worktree_holding,
    )

    by_ref: dict[str, list[Finding]] = {}
    holders: dict[str, list[str]] = {}
    for finding in findings:
        if finding.commit is None:
            continue
        if finding.commit not in holders:
            refs = refs_containing(root, finding.commit)
            worktree = None if refs else worktree_holding(root, finding.commit)
            holders[finding.commit] = refs or [worktree or UNREACHABLE]
        for ref in holders[finding.commit]:
            by_ref.setdefault(ref_group(ref), []).append(finding)
    results = []
    for group, items in by_ref.items():
        secrets = group_findings(items)
        shown = "; ".join(item.describe() for item in secrets[:3])
        more = f" and {len(secrets) - 3} more" if len(secrets) > 3 else ""
        holder, other = group, ""
        if group.startswith(WORKTREE):  # (no ref names it: its HEAD is the holder)
            holder, other = f"{group}'s HEAD", " (or check out a commit without them there)"
        results.append(
            CheckResult(
                "plaintext-history",
                False,
                f"{holder} still holds {len(secrets)} secret(s): {shown}{more}{other}",
                f"remove it: {removal_command(group)}",
                tuple(dict.fromkeys(p for item in secrets for p in item.paths)),
            )
        )
    return results


def _ref_names(root: Path, refs: Iterable[str]) -> list[CheckResult]:
    """A failure for each ref whose name holds a token (a push of it publishes the
    name): shown around the token's preview, never whole."""
    from secretkit.scan.allowlist import load
    from secretkit.scan.names import REF_PREFIX, name_findings

    out = []
    for f in name_findings(refs, load(root), REF_PREFIX):
        shown = f.path[len(REF_PREFIX) :]
        out.append(
            CheckResult(
                "plaintext-history",
                False,
                f"a ref's name holds a secret: {shown}: {f.rule} '{f.preview}'",
                "rename or delete it before pushing (git branch -m for a branch, git tag -d "
                "and a new tag for a tag; `git for-each-ref` lists it), and change the token "
                "at its provider if the ref was ever pushed",
                (),
            )
        )
    return out
