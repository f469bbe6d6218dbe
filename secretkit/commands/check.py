"""``secretkit check``: is the repository safe to make public?  The publish gate.

Every point of :data:`CHECKS` runs and yields either one passing result or one
failing result per problem, each with the exact fix.  The repository passes only
when every result passes:

``plaintext-tree``
    no plaintext secret in the work tree (tracked and untracked-not-ignored files),
    except what the allowlist or ``# secretkit: allow`` suppresses;
``plaintext-history``
    no plaintext secret in any commit;
``sops-mac``
    every sops file verifies (MAC and values) with an identity available here; with
    no identity that opens a file this point fails ("cannot verify");
``sops-recipients``
    every sops file is encrypted for exactly the recipients its ``.sops.yaml`` rule
    names (no pending ``updatekeys``);
``nix-secret-refs``
    every ``config.sops.secrets."<name>"`` (and ``config.sops.placeholder."<name>"``)
    used in Nix is declared as ``sops.secrets."<name>"``, and every declared secret
    exists as a key in its ``sopsFile`` (key names are in clear in sops files);
``host-readable``
    every host can read the sops files its configuration uses: each file's
    recipients include that host's ``&host_<name>`` key;
``decrypted-copy``
    no decrypted copy of a secrets file lies in the tree: a file a creation rule
    matches that is not a sops file, a ``*.dec.*`` / ``*.decrypted.*`` / backup
    twin of a sops file, or any YAML/JSON/dotenv file whose key paths are exactly
    those of a sops file (``secretkit decrypt … --output anywhere.yaml``).

With ``source_only`` (``secretkit check --source-only``, made for ``nix flake
check``: a read-only copy of the tracked files, no ``.git``, no private key) the
directory is walked instead of asking git, and the points that need what a source
tree does not have are not run but listed in :data:`NEEDS_MORE_THAN_SOURCE` with
the reason: ``plaintext-history`` (git history) and ``sops-mac`` (a private key).
Such a run never says "safe to publish".

A ``sopsFile`` computed from the host name, as ``migrate`` writes it in a module
shared by several hosts (``../secrets + "/${config.networking.hostName}.yaml"``), is
resolved once per host that imports the module: ``config.networking.hostName`` is the
string literal the host's code sets, else the host's name in the inventory (migrate
relies on the two being equal).  A ``sopsFile``
that cannot be resolved without evaluating Nix fails the point ("cannot verify"):
the gate never passes what it did not check.

Nothing here decrypts more than needed for the MAC check, and no value is shown.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secretkit.gate.model import JSON_VERSION, CheckReport, CheckResult
from secretkit.gate.render import render
from secretkit.git import require_repo, run_git

if TYPE_CHECKING:
    from secretkit.commands.hook import SopsJudge
    from secretkit.keys.hosts import Inventory
    from secretkit.keys.sops_yaml import SopsYaml
    from secretkit.layouts.clan import ClanLayout
    from secretkit.scan.allowlist import Allowlist
    from secretkit.scan.model import Finding, Skipped
    from secretkit.sops.config import SopsConfig
    from secretkit.sops.document import SopsFile

__all__ = ["JSON_VERSION", "CheckReport", "CheckResult", "render", "run_check"]
MAX_FILE_BYTES = 16 * 1024 * 1024
_TWIN_MARKERS = ("dec", "decrypted", "plain", "plaintext", "clear", "bak", "orig", "old", "tmp")


@dataclass
class _SopsEntry:
    path: str
    data: bytes
    sops: SopsFile


@dataclass
class CheckContext:
    """What the checks share; expensive parts are computed once, on first use."""

    root: Path
    judge: SopsJudge
    _files: list[str] | None = None
    _tracked: set[str] | None = None
    _config: SopsConfig | None = None
    _config_loaded: bool = False
    _sops: list[_SopsEntry] | None = None
    _nix: _NixFacts | None = None
    _inventory: Inventory | None = None
    _clan: ClanLayout | None = None
    _clan_loaded: bool = False
    progress: Callable[[int, int], None] | None = None  # for the history scan
    walk: bool = False  # a plain directory: no git, every file under it counts as tracked

    # -- files ------------------------------------------------------------------
    def files(self) -> list[str]:
        """Tracked plus untracked-not-ignored files (what a ``git add -A`` would publish)."""
        if self._files is None and self.walk:
            self._files = _walk_files(self.root)
            self._tracked = set(self._files)
        if self._files is None:
            tracked = _ls(self.root, "--cached")
            others = _ls(self.root, "--others", "--exclude-standard")
            self._tracked = set(tracked)
            self._files = sorted(set(tracked) | set(others))
        return self._files

    def tracked(self) -> set[str]:
        self.files()
        return self._tracked or set()

    def read(self, path: str) -> bytes | None:
        full = self.root / path
        try:
            if full.is_symlink() or not full.is_file() or full.stat().st_size > MAX_FILE_BYTES:
                return None
            return full.read_bytes()
        except OSError:
            return None

    # -- sops ---------------------------------------------------------------------
    def config(self) -> SopsConfig | None:
        if not self._config_loaded:
            from secretkit.sops.config import find_config

            self._config = find_config(self.root)
            self._config_loaded = True
        return self._config

    def sops_files(self) -> list[_SopsEntry]:
        """Every sops file in the tree (any name: metadata decides), parsed."""
        if self._sops is None:
            from secretkit.errors import SecretkitError
            from secretkit.sops import document

            found: list[_SopsEntry] = []
            for path in self.files():
                if os.path.basename(path) == ".sops.yaml":
                    continue
                data = self.read(path)
                if data is None or b"sops" not in data or b"mac" not in data:
                    continue
                try:
                    sops = document.load_encrypted(data, document.format_for_path(path))
                except SecretkitError:
                    continue
                found.append(_SopsEntry(path, data, sops))
            self._sops = found
        return self._sops

    def sops_by_path(self) -> dict[str, _SopsEntry]:
        return {entry.path: entry for entry in self.sops_files()}

    def inventory(self) -> Inventory:
        if self._inventory is None:
            from secretkit.keys.hosts import discover

            self._inventory = discover(self.root)
        return self._inventory

    def clan(self) -> ClanLayout | None:
        """clan-core's sops/ and vars/ layout, when the repository has one."""
        if not self._clan_loaded:
            from secretkit.layouts.clan import read_clan

            self._clan = read_clan(self.root, self.files())
            self._clan_loaded = True
        return self._clan

    def nix(self) -> _NixFacts:
        if self._nix is None:
            self._nix = _nix_facts(self)
        return self._nix


def _walk_files(root: Path) -> list[str]:
    """Every file under ``root`` (``.git`` left out, links not followed), ``/``-separated."""
    out: list[str] = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        rel = os.path.relpath(directory, root)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        out.extend(prefix + name for name in files)
    return sorted(out)


def _ls(root: Path, *args: str) -> list[str]:
    proc = run_git(root, "ls-files", "-z", *args)
    return [p.decode("utf-8", "surrogateescape") for p in proc.stdout.split(b"\0") if p]


# ---------------------------------------------------------------------------
# plaintext secrets
# ---------------------------------------------------------------------------
def check_plaintext_tree(ctx: CheckContext) -> list[CheckResult]:
    from secretkit.scan.allowlist import load
    from secretkit.scan.worktree import scan_tree

    report = scan_tree(ctx.root, use_cache=True)
    results = []
    for f in report.findings:
        where = f" at {f.attrpath}" if f.attrpath else ""
        place = f"{f.path}:{f.line}:{f.column}"
        if f.kind == "password-hash":
            results.append(_hash_warning("plaintext-tree", place, f.preview, where, f.path))
            continue
        results.append(
            CheckResult(
                "plaintext-tree",
                False,
                f"plaintext secret {place}: {f.rule} {f.preview!r}{where}",
                _fix_for(ctx, f),
                (f.path,),
            )
        )
    results.extend(_unverified("plaintext-tree", report.skipped, load(ctx.root)))
    if not any(not r.ok for r in results):
        results.insert(0, CheckResult("plaintext-tree", True, "no plaintext secret in the tree"))
    return results


def _fix_for(ctx: CheckContext, finding: Finding) -> str:
    """The way out for one finding: ``migrate`` only when its planner accepts it."""
    from secretkit.commands.hook import finding_fix
    from secretkit.plan.advice import migrate_refusal

    refusal = None
    if finding.path.endswith(".nix"):
        source = ctx.read(finding.path)
        refusal = "unreadable" if source is None else migrate_refusal(finding.path, source, finding)
    return finding_fix(finding.path, finding.fingerprint, refusal)


def _hash_warning(check_id: str, place: str, preview: str, where: str, path: str) -> CheckResult:
    return CheckResult(
        check_id,
        True,
        f"warning: password hash {place} {preview!r}{where}: not the password, but "
        "crackable offline; publish it only on purpose",
        "to keep it private: secretkit migrate (hashedPassword → hashedPasswordFile)",
        (path,),
        warning=True,
    )


def _unverified(check_id: str, skipped: list[Skipped], allow: Allowlist) -> list[CheckResult]:
    """A file the scanner could not read fails the point: never "ok" for what was not
    read, unless the user vouched for the path in the allowlist."""
    from secretkit.scan.allowlist import ALLOW_FILE
    from secretkit.scan.many_files import MISSING_BLOB

    results = []
    for skip in skipped:
        path = skip.path.split(":", 1)[1] if check_id == "plaintext-history" else skip.path
        if allow.allows_unscanned(path):
            continue
        if skip.reason == MISSING_BLOB:
            repair = "fetch the missing objects (git fetch --refetch, or clone again)"
        else:
            repair = "make it readable"
        results.append(
            CheckResult(
                check_id,
                False,
                f"cannot verify: {skip.path} ({skip.reason})",
                f"{repair} and run secretkit check again; or, if you vouch for it, "
                f"allowlist the path: echo 'path:{path}' >> {ALLOW_FILE}",
                (path,),
            )
        )
    return results


def check_plaintext_history(ctx: CheckContext) -> list[CheckResult]:
    from secretkit.commands.purge import group_findings, live_findings
    from secretkit.git.filter_repo import list_refs
    from secretkit.scan.allowlist import load
    from secretkit.scan.history import scan_history

    report = scan_history(ctx.root, progress=ctx.progress, every_ref=True)
    findings = list(report.findings)
    refs = list_refs(ctx.root)
    shared = [r for r in refs if r.startswith(_PUBLISHED_REFS)]
    if _head_commit(ctx.root) is not None:
        shared.append("HEAD")
    live = live_findings(ctx.root, findings, shared)
    live_ids = {id(f) for f in live}
    results: list[CheckResult] = []
    hashes = [f for f in live if f.kind == "password-hash"]
    for item in group_findings(hashes):
        results.append(_hash_warning("plaintext-history", item.describe(), "", "", item.paths[0]))
    from secretkit.scan.history import tag_of

    tagged = [f for f in live if tag_of(f.path) is not None and f.kind != "password-hash"]
    for ref in dict.fromkeys(tag_of(f.path) or "" for f in tagged):
        name = ref.removeprefix("refs/tags/")
        items = group_findings([f for f in tagged if tag_of(f.path) == ref])
        results.append(
            CheckResult(
                "plaintext-history",
                False,
                f"tag {name} holds {len(items)} secret(s) no commit holds (a tag of a blob or "
                f"tree, or its message): {'; '.join(i.describe() for i in items[:3])}",
                f"rotate it at its provider, then delete the tag: git tag -d {name} "
                f"(and on each remote it was pushed to: git push --delete <remote> {name})",
                tuple(dict.fromkeys(p for i in items for p in i.paths)),
            )
        )
    results += [
        CheckResult(
            "plaintext-history",
            False,
            f"a secret was committed: {item.describe()} ({item.commits} commit(s))",
            "rotate it at its provider, then `secretkit purge` to remove it from history "
            "and force-push",
            item.paths,
        )
        for item in group_findings(
            [f for f in live if f.kind != "password-hash" and tag_of(f.path) is None]
        )
    ]
    results += _held_by_other_refs(ctx.root, [f for f in findings if id(f) not in live_ids])
    results.extend(_unverified("plaintext-history", report.skipped, load(ctx.root)))
    if not any(not r.ok for r in results):
        results.insert(0, CheckResult("plaintext-history", True, "no plaintext secret in history"))
    return results


# Refs whose commits are the repository's history proper (what a push publishes).
_PUBLISHED_REFS = ("refs/heads/", "refs/tags/", "refs/remotes/")


def _head_commit(root: Path) -> str | None:
    proc = run_git(root, "rev-parse", "--verify", "-q", "HEAD^{commit}", check=False)
    return proc.stdout.decode().strip() or None if proc.returncode == 0 else None


def _held_by_other_refs(root: Path, findings: list[Finding]) -> list[CheckResult]:
    """Secrets only local refs still hold (purge backups, stashes, notes, others): each
    such ref fails with the exact command that removes it."""
    from secretkit.commands.purge import group_findings
    from secretkit.git.refs import UNREACHABLE, ref_group, refs_containing, removal_command

    by_ref: dict[str, list[Finding]] = {}
    holders: dict[str, list[str]] = {}
    for finding in findings:
        if finding.commit is None:
            continue
        if finding.commit not in holders:
            holders[finding.commit] = refs_containing(root, finding.commit)
        for ref in holders[finding.commit] or [UNREACHABLE]:
            by_ref.setdefault(ref_group(ref), []).append(finding)
    results = []
    for group, items in by_ref.items():
        secrets = group_findings(items)
        shown = "; ".join(item.describe() for item in secrets[:3])
        more = f" and {len(secrets) - 3} more" if len(secrets) > 3 else ""
        results.append(
            CheckResult(
                "plaintext-history",
                False,
                f"{group} still holds {len(secrets)} secret(s): {shown}{more}",
                f"remove it: {removal_command(group)}",
                tuple(dict.fromkeys(p for item in secrets for p in item.paths)),
            )
        )
    return results


# ---------------------------------------------------------------------------
# sops files
# ---------------------------------------------------------------------------
def check_sops_mac(ctx: CheckContext) -> list[CheckResult]:
    results = []
    files = ctx.sops_files()
    for entry in files:
        before = len(ctx.judge.unverified)
        problem = ctx.judge.judge(entry.path, entry.data)
        if problem is not None:
            results.append(
                CheckResult(
                    "sops-mac", False, f"{entry.path} {problem.reason}", problem.fix, (entry.path,)
                )
            )
        elif len(ctx.judge.unverified) > before:
            fix = (
                "set SOPS_AGE_KEY_FILE (or SOPS_AGE_KEY) to an admin age key that is a "
                "recipient of the file, then run secretkit check again"
            )
            results.append(
                CheckResult(
                    "sops-mac",
                    False,
                    f"cannot verify the MAC of {entry.path}: no identity here opens it "
                    "(its structure is fine)",
                    fix,
                    (entry.path,),
                    group="cannot verify the MAC: no identity here opens the file "
                    "(its structure is fine)",
                    group_fix=fix,
                )
            )
    return results or [
        CheckResult("sops-mac", True, f"{len(files)} sops file(s) verify (MAC and values)")
    ]


def _group_sets(groups: list[list[str]]) -> list[frozenset[str]]:
    return [frozenset(group) for group in groups]


def check_sops_recipients(ctx: CheckContext) -> list[CheckResult]:
    from secretkit.gate.clan_checks import clan_recipients
    from secretkit.sops.api import recipients_of, rule_recipients

    config = ctx.config()
    clan = ctx.clan()
    results = []
    checked = 0
    managed = set(clan.secrets) if clan is not None else set()
    if clan is not None:
        from secretkit.sops.api import recipients_of as _of

        found = {e.path: [r for g in _of(e.sops) for r in g] for e in ctx.sops_files()}
        results.extend(clan_recipients(clan, found))
    for entry in ctx.sops_files():
        if entry.path in managed:
            continue
        rule = config.rule_for(ctx.root / entry.path) if config is not None else None
        if rule is None:
            results.append(
                CheckResult(
                    "sops-recipients",
                    False,
                    f"{entry.path} is a sops file but no .sops.yaml creation rule matches it",
                    "add a creation rule for it (secretkit hosts add NAME adds one per host) "
                    "or move it to secrets/<host>.yaml",
                    (entry.path,),
                    group="a sops file no .sops.yaml creation rule matches",
                    group_fix="add creation rules for these files to .sops.yaml "
                    "(secretkit hosts add NAME adds one per host)",
                )
            )
            continue
        checked += 1
        have = _group_sets(recipients_of(entry.sops))
        want = _group_sets(rule_recipients(rule))
        if have != want:
            missing = sorted(set().union(*want) - set().union(*have)) if want else []
            extra = sorted(set().union(*have) - set().union(*want)) if have else []
            detail = "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"not in the rule {', '.join(extra)}" if extra else "",
                    "key groups differ" if not missing and not extra else "",
                )
                if part
            )
            results.append(
                CheckResult(
                    "sops-recipients",
                    False,
                    f"{entry.path} is not encrypted for the recipients its rule names ({detail})",
                    f"secretkit updatekeys {entry.path}"
                    + ("  (then rotate its data key: secretkit rotate data-keys)" if extra else ""),
                    (entry.path,),
                )
            )
    # a clan summary stays next to failures of other files; the count of files matching
    # their rules is shown only when it is the whole story
    mismatched = sum(1 for r in results if not r.ok and r.paths and r.paths[0] not in managed)
    if (checked and not mismatched) or not results:
        results.append(
            CheckResult(
                "sops-recipients", True, f"{checked} sops file(s) match their rules' recipients"
            )
        )
    return results


def _by_directory(sops_names: set[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for sops in sops_names:
        directory, _, base = sops.rpartition("/")
        out.setdefault(directory, []).append(base)
    return out


def _is_twin(name: str, sops_names: set[str], index: dict[str, list[str]] | None = None) -> bool:
    """``host.dec.yaml``, ``host.yaml.dec``, ``host.decrypted.yaml``, ``host.yaml~``… of a
    sops file ``host.yaml`` in the same directory; or any ``*.dec.*``/``*.decrypted.*``.
    ``index`` is :func:`_by_directory` of ``sops_names`` (computed when not given)."""
    directory, _, base = name.rpartition("/")
    parts = base.split(".")
    if any(p in ("dec", "decrypted") for p in parts[1:]):
        return True
    index = index if index is not None else _by_directory(sops_names)
    for sops in index.get(directory, ()):
        if sops == base:
            continue
        stem = sops.split(".")[0]
        if base.endswith("~") and base[:-1] == sops:
            return True
        if parts[0] == stem and any(p in _TWIN_MARKERS for p in parts[1:]):
            return True
    return False


_Shape = frozenset[tuple[str | int, ...]]


def _shape(docs: list[Any]) -> _Shape:
    """The set of leaf key paths of a document (key names are in clear in sops files)."""
    from secretkit.sops.tree import leaves

    return frozenset(path for doc in docs for path, _ in leaves(doc))


def _names(shape: _Shape) -> frozenset[bytes]:
    return frozenset(str(part).encode() for path in shape for part in path if isinstance(part, str))


def _plain_shape(
    ctx: CheckContext, path: str, names: list[frozenset[bytes]] | None = None
) -> _Shape | None:
    """The key shape of a plaintext YAML/JSON/dotenv/INI file, or None when it is not one.
    With ``names`` (the key names of each sops file), a file that does not contain all
    the names of any one of them is not parsed: it cannot have the same shape."""
    from secretkit.errors import SecretkitError
    from secretkit.sops import document

    fmt = document.format_for_path(path)
    if fmt == "binary":
        return None
    data = ctx.read(path)
    if data is None:
        return None
    if names is not None and not any(all(n in data for n in group) for group in names):
        return None
    try:
        plain = document.load_plain(data, fmt)
    except SecretkitError:
        return None  # not parseable, or a (damaged) sops file: other points judge it
    return _shape(plain.docs)


def check_decrypted_copies(ctx: CheckContext) -> list[CheckResult]:
    from secretkit.commands.hook import names_a_secrets_file

    config = ctx.config()
    sops_paths = set(ctx.sops_by_path())
    shapes: dict[_Shape, list[str]] = {}
    for entry in ctx.sops_files():
        if entry.sops.fmt != "binary":
            shape = _shape(entry.sops.docs)
            if shape:
                shapes.setdefault(shape, []).append(entry.path)
    names = [_names(shape) for shape in shapes]
    twins = _by_directory(sops_paths)
    tracked = ctx.tracked()
    results = []
    for path in ctx.files():
        if path in sops_paths or os.path.basename(path) == ".sops.yaml":
            continue
        matched = config is not None and names_a_secrets_file(config, ctx.root / path)
        if matched or _is_twin(path, sops_paths, twins):
            if ctx.read(path) is None:
                continue
            what = (
                "matches a .sops.yaml creation rule but is not a sops file"
                if matched
                else "looks like a decrypted copy of a sops file"
            )
        else:
            copied = _plain_shape(ctx, path, names) if shapes else None
            if not copied or copied not in shapes:
                continue
            same = shapes[copied]
            named = ", ".join(same[:3]) + (f" (+{len(same) - 3} more)" if len(same) > 3 else "")
            what = f"has exactly the keys of the sops file {named}: it looks like a decrypted copy"
        where = "committed" if path in tracked else "untracked, not ignored"
        fix = (
            f"delete it (or encrypt it: secretkit encrypt -i {path}; or, to keep it "
            f"locally, add it to .gitignore)"
            if path not in tracked
            else f"git rm --cached {path}, encrypt it (secretkit encrypt -i {path}), and "
            "rotate its values: the plaintext is in history (secretkit purge)"
        )
        results.append(
            CheckResult("decrypted-copy", False, f"{path} ({where}) {what}", fix, (path,))
        )
    return results or [CheckResult("decrypted-copy", True, "no decrypted copy of a secrets file")]


# ---------------------------------------------------------------------------
# Nix: declared secrets, references, sopsFile keys, hosts
# ---------------------------------------------------------------------------
@dataclass
class _Declaration:
    name: str
    file: str  # the .nix file
    offset: int
    sops_file: str | None = None  # repo-relative, when it is a plain path literal
    sops_file_text: str | None = None  # as written (literal or computed)
    key: str | None = None
    fmt: str | None = None


@dataclass(frozen=True)
class _Target:
    """The sops file one declaration reads, for one host or for every host."""

    path: str | None  # repo-relative; None when it cannot be resolved statically
    host: str | None = None  # None: the same file whichever host imports the module
    why: str = ""  # when path is None: why not (names and paths only)


@dataclass
class _NixFacts:
    declarations: list[_Declaration] = field(default_factory=list)
    references: list[tuple[str, str, int, int]] = field(
        default_factory=list
    )  # name, file, offset, line
    default_files: dict[str, str] = field(
        default_factory=dict
    )  # nix file -> repo-relative sops file
    default_texts: dict[str, str] = field(default_factory=dict)  # nix file -> as written
    unparsed: list[str] = field(default_factory=list)
    dynamic: list[str] = field(default_factory=list)  # files declaring computed names
    # networking.hostName = "<literal>": (nix file, offset, name)
    host_names: list[tuple[str, int, str]] = field(default_factory=list)


_ATTRSETS = ("attrset_expression", "rec_attrset_expression")


def _attr_name(tree: Any, node: Any) -> str | None:
    """The name of one attrpath element, or None when it is computed (``${…}``)."""
    from secretkit.nix.cst import node_text

    if node.type == "identifier":
        return str(node_text(tree, node))
    if node.type == "string_expression":
        parts = [c for c in node.children if c.type not in ('"',)]
        if all(c.type == "string_fragment" for c in parts):
            return "".join(str(node_text(tree, c)) for c in parts)
    return None


def _select_names(tree: Any, node: Any) -> list[str | None]:
    attrpath = node.child_by_field_name("attrpath")
    if attrpath is None:
        return []
    return [_attr_name(tree, c) for c in attrpath.children if c.type != "."]


def _walk(node: Any) -> Iterator[Any]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def _resolve_nix_path(nix_file: str, text: str) -> str | None:
    """``./x.yaml`` / ``../secrets/x.yaml`` written in ``nix_file`` → repo-relative path."""
    text = text.strip()
    if text.startswith('"${') and text.endswith('}"') and text.count("${") == 1:
        text = text[3:-2]  # "${./x.yaml}"
    if not text.startswith(("./", "../")) or "${" in text:
        return None
    joined = os.path.normpath(os.path.join(os.path.dirname(nix_file), text))
    if joined.startswith(".."):
        return None
    return joined.replace(os.sep, "/")


_HOSTNAME = "${config.networking.hostName}"
# ``<path> + "<tail>"``, ``"${<path>}<tail>"``, ``(<either>)``: the forms a per-host
# sopsFile takes (migrate writes the first); the tail may name the host.
_NAME = r"\$\{config\.networking\.hostName\}"
_BASE = r"(\.{1,2}(?:/[A-Za-z0-9._+-]+)*/?)"
_TAIL = rf'((?:[^"\\$]|{_NAME})*)'
_PATH_PLUS = re.compile(rf'{_BASE}\s*\+\s*"{_TAIL}"')
_INTERPOLATED = re.compile(rf'"\$\{{{_BASE}\}}{_TAIL}"')
_PATH_INTERP = re.compile(rf"(\.{{1,2}}(?:/(?:[A-Za-z0-9._+-]|{_NAME})+)+)")


def _resolve_for_host(nix_file: str, text: str, host: str | None) -> str | None:
    """A ``sopsFile`` expression written in ``nix_file`` → repo-relative path, with
    ``host`` standing for ``config.networking.hostName``; None when the expression is
    anything else (it would need evaluating)."""
    text = " ".join(text.split())
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    literal = _resolve_nix_path(nix_file, text)
    if literal is not None:
        return literal
    for pattern in (_PATH_PLUS, _INTERPOLATED, _PATH_INTERP):
        match = pattern.fullmatch(text)
        if match is None:
            continue
        joined = "".join(match.groups())
        if _HOSTNAME in joined:
            if host is None:
                return None
            joined = joined.replace(_HOSTNAME, host)
        return None if "${" in joined else _resolve_nix_path(nix_file, joined)
    return None


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _string_value(tree: Any, node: Any) -> str | None:
    if node.type != "string_expression":
        return None
    return _attr_name(tree, node)


def _nix_facts(ctx: CheckContext) -> _NixFacts:
    from secretkit.nix import cst

    facts = _NixFacts()
    for path in ctx.files():
        if not path.endswith(".nix"):
            continue
        data = ctx.read(path)
        if data is None or (b"sops" not in data and b"hostName" not in data):
            continue  # nothing here can declare, use or locate a secret
        tree = cst.parse(data)
        if tree.has_errors:
            facts.unparsed.append(path)
        declared: dict[str, _Declaration] = {}
        for binding in cst.bindings(tree):
            full = [*binding.attrset_path, *binding.attrpath]
            if full[:1] == ["config"]:  # `{ options = …; config = { … }; }`: the same options
                full = full[1:]
            if full == ["networking", "hostName"]:
                literal = _string_value(tree, binding.value)
                if literal is not None:
                    facts.host_names.append((path, binding.start, literal))
                continue
            if full == ["sops", "defaultSopsFile"]:
                text = str(cst.node_text(tree, binding.value))
                facts.default_texts[path] = text
                resolved = _resolve_nix_path(path, text)
                if resolved:
                    facts.default_files[path] = resolved
                continue
            if full == ["sops", "secrets"] and binding.value.type not in _ATTRSETS:
                facts.dynamic.append(path)  # lib.genAttrs …, mkSecrets …: computed names
                continue
            if len(full) < 3 or full[:2] != ["sops", "secrets"]:
                continue
            name = full[2]
            if "${" in name:
                facts.dynamic.append(path)
                continue
            decl = declared.get(name)
            if decl is None:
                decl = declared[name] = _Declaration(name, path, binding.start)
            if len(full) == 4:
                value_text = cst.node_text(tree, binding.value)
                if full[3] == "sopsFile":
                    decl.sops_file = _resolve_nix_path(path, value_text)
                    decl.sops_file_text = value_text
                elif full[3] == "key":
                    decl.key = _string_value(tree, binding.value)
                elif full[3] == "format":
                    decl.fmt = _string_value(tree, binding.value)
        facts.declarations.extend(declared.values())
        for node in _walk(tree.root):
            if node.type != "select_expression":
                continue
            base = node.child_by_field_name("expression")
            if base is None or cst.node_text(tree, base) != "config":
                continue
            names = _select_names(tree, node)
            if len(names) >= 3 and names[0] == "sops" and names[1] in ("secrets", "placeholder"):
                ref_name = names[2]
                if ref_name is not None:
                    line = node.start_point[0] + 1
                    facts.references.append((ref_name, path, node.start_byte, line))
    return facts


def _lookup_key(sops: SopsFile, key: str) -> bool:
    """Whether ``key`` (``a/b/c`` = nested, as sops-nix reads it) exists in the file."""
    from secretkit.sops.tree import Map

    if sops.fmt == "binary":
        return True
    if sops.fmt in ("dotenv", "ini"):
        names = {p[0] if len(p) == 1 else "/".join(str(x) for x in p) for p, _ in _leaves(sops)}
        return key in names or key.split("/")[0] in names
    node: object = sops.docs[0] if sops.docs else None
    for part in key.split("/"):
        if not isinstance(node, Map) or node.find(part) < 0:
            return False
        node = node.lookup(part)
    return True


def _leaves(sops: SopsFile) -> Iterator[tuple[tuple[str | int, ...], object]]:
    from secretkit.sops.tree import leaves

    for doc in sops.docs:
        yield from leaves(doc)


def _default_file(ctx: CheckContext, decl: _Declaration) -> str | None:
    defaults = ctx.nix().default_files
    if decl.file in defaults:
        return defaults[decl.file]
    distinct = set(defaults.values())
    return distinct.pop() if len(distinct) == 1 else None


_UNRESOLVED_FIX = (
    "write sopsFile as a relative path literal (../secrets/<host>.yaml) or, in a module "
    'shared by several hosts, as ../secrets + "/${config.networking.hostName}.yaml" '
    "(what secretkit migrate writes), then run secretkit check again"
)


def _targets(ctx: CheckContext, decl: _Declaration, inventory: Inventory) -> list[_Target]:
    """The sops file(s) ``decl`` reads: one for all hosts when it is a path literal, one
    per host using the module when it is computed from the host name; a target without
    a path when it cannot be resolved statically (the caller fails the point)."""
    facts = ctx.nix()
    if decl.sops_file is not None:
        return [_Target(decl.sops_file)]
    text, written_in = decl.sops_file_text, decl.file
    hosts = sorted(inventory.hosts_at(decl.file, decl.offset))
    clan = ctx.clan()
    if text is None and clan is not None and decl.file not in facts.default_texts:
        # clan's sops module declares sops/secrets/<name>/secret for every secret whose
        # folder links the machine; the module here only adds owner, mode, …
        if not inventory.hosts_at(decl.file, decl.offset):
            return []  # a module no machine imports: nothing reads this declaration
        return [_Target(f"sops/secrets/{decl.name}/secret")]
    if text is None:
        if decl.file in facts.default_texts:
            text = facts.default_texts[decl.file]
        elif not hosts:
            default = _default_file(ctx, decl)
            if default is not None:
                return [_Target(default)]
            return [_Target(None, None, "it has no sopsFile and no single sops.defaultSopsFile")]
        else:  # the default set by the host's own modules
            return [_host_default(ctx, decl, inventory, host) for host in hosts]
    if _resolve_for_host(written_in, text, None) is not None:
        return [_Target(_resolve_for_host(written_in, text, None))]
    if _HOSTNAME not in " ".join(text.split()):
        return [_Target(None, None, f"sopsFile = {_short(text)} needs evaluating Nix")]
    if not hosts:
        return [
            _Target(
                None,
                None,
                f"sopsFile = {_short(text)} names the host, but no host imports {decl.file}",
            )
        ]
    targets = []
    for host in hosts:
        name = _host_name(ctx, inventory, host)
        path = _resolve_for_host(written_in, text, name) if name is not None else None
        why = (
            ""
            if path is not None
            else f"host {host} sets networking.hostName to several different values"
            if name is None
            else f"sopsFile = {_short(text)} needs evaluating Nix"
        )
        targets.append(_Target(path, host, why))
    return targets


def _host_name(ctx: CheckContext, inventory: Inventory, host: str) -> str | None:
    """``config.networking.hostName`` on ``host``: the string literal its code sets, else
    its name in the inventory (migrate relies on the two being equal); None when its
    code sets several different literals."""
    names = {
        name
        for file, offset, name in ctx.nix().host_names
        if host in inventory.hosts_at(file, offset)
    }
    if not names:
        return host
    return names.pop() if len(names) == 1 else None


def _host_default(
    ctx: CheckContext, decl: _Declaration, inventory: Inventory, host: str
) -> _Target:
    """sops.defaultSopsFile as host ``host`` sets it (in any of its modules)."""
    facts = ctx.nix()
    modules = {m.as_posix() for m in inventory.hosts[host].modules}
    texts = {(f, t) for f, t in facts.default_texts.items() if f in modules}
    name = _host_name(ctx, inventory, host)
    paths = {_resolve_for_host(f, t, name) for f, t in texts}
    if len(paths) == 1 and None not in paths:
        return _Target(paths.pop(), host)
    if not texts:
        why = "it has no sopsFile and the host's modules set no sops.defaultSopsFile"
    elif None in paths:
        shown = ", ".join(sorted(f"{f}: {_short(t, 60)}" for f, t in texts))
        why = f"it has no sopsFile and sops.defaultSopsFile needs evaluating Nix ({shown})"
    else:
        why = "it has no sopsFile and the host's modules set different sops.defaultSopsFile"
    return _Target(None, host, why)


def _for_host(target: _Target) -> str:
    return f" for host {target.host}" if target.host else ""


def _cannot_verify(check_id: str, decl: _Declaration, target: _Target) -> CheckResult:
    return CheckResult(
        check_id,
        False,
        f'cannot verify: {decl.file}: sops.secrets."{decl.name}"{_for_host(target)}: {target.why}',
        _UNRESOLVED_FIX,
        (decl.file,),
        group="cannot verify: a declared secret's sopsFile cannot be resolved without "
        "evaluating Nix",
        group_fix=_UNRESOLVED_FIX,
    )


def check_nix_refs(ctx: CheckContext) -> list[CheckResult]:
    facts = ctx.nix()
    inventory = ctx.inventory()
    results = []
    declared = {d.name for d in facts.declarations}
    for name, file, _offset, line in facts.references:
        if name in declared or facts.dynamic:
            continue  # with computed declarations, an unknown name may be declared
        results.append(
            CheckResult(
                "nix-secret-refs",
                False,
                f'{file}:{line}: config.sops.secrets."{name}" is used but never declared',
                f'declare it: sops.secrets."{name}" = {{ sopsFile = ../secrets/<host>.yaml; }}; '
                "(secretkit migrate writes these declarations)",
                (file,),
            )
        )
    sops = ctx.sops_by_path()
    checked = 0
    unused = 0
    for decl in facts.declarations:
        key = decl.key or decl.name
        targets = _targets(ctx, decl, inventory)
        unused += not targets
        for target in targets:
            if target.path is None:
                results.append(_cannot_verify("nix-secret-refs", decl, target))
                continue
            checked += 1
            where = f'{decl.file}: sops.secrets."{decl.name}"{_for_host(target)}'
            entry = sops.get(target.path)
            if entry is None:
                missing = ctx.read(target.path) is None
                what = "does not exist" if missing else "is not a sops file"
                fix = f"create it: secretkit set {target.path} '[\"{key}\"]' (value on stdin)"
                if ctx.clan() is not None and target.path.startswith("sops/secrets/"):
                    users = sorted(inventory.hosts_at(decl.file, decl.offset))
                    machine = users[0] if len(users) == 1 else "<machine>"
                    each = f" for each of {', '.join(users)}" if len(users) > 1 else ""
                    fix = (
                        f"create it the clan way: clan secrets set {decl.name} (value on stdin), "
                        f"then clan secrets machines add-secret {machine} {decl.name}{each}"
                    )
                results.append(
                    CheckResult(
                        "nix-secret-refs",
                        False,
                        f"{where} reads {target.path}, which {what}",
                        fix,
                        (decl.file, target.path),
                    )
                )
                continue
            if decl.fmt in (None, "yaml", "json") and not _lookup_key(entry.sops, key):
                path_expr = "".join(f'["{p}"]' for p in key.split("/"))
                results.append(
                    CheckResult(
                        "nix-secret-refs",
                        False,
                        f'{where} needs key "{key}" in {target.path}, which has no such key',
                        f"add it: secretkit set {target.path} '{path_expr}' (value on stdin)",
                        (decl.file, target.path),
                    )
                )
    pairs = 0
    if ctx.clan() is not None:
        from secretkit.gate.clan_checks import clan_var_refs

        nix_files = {p: d for p in ctx.files() if p.endswith(".nix") for d in [ctx.read(p)] if d}
        pairs, problems = clan_var_refs(ctx.root, nix_files, inventory.hosts_of_file)
        results.extend(problems)
    n_refs = len(facts.references)
    note = (
        f" (names computed in {', '.join(sorted(set(facts.dynamic)))} are not checked)"
        if facts.dynamic
        else ""
    )
    if facts.unparsed:
        note += f" ({len(facts.unparsed)} file(s) with Nix syntax errors read partially)"
    if unused:
        note += f" ({unused} in modules no machine imports, not checked)"
    if ctx.clan() is not None:
        note = f"; {pairs} clan var use(s) by machines, all generated" + note
    return results or [
        CheckResult(
            "nix-secret-refs",
            True,
            f"{len(facts.declarations)} declared secret(s) ({checked} host/file pair(s)), "
            f"{n_refs} reference(s), all resolve{note}",
        )
    ]


def check_host_readable(ctx: CheckContext) -> list[CheckResult]:
    from secretkit.gate.clan_checks import clan_host_problem
    from secretkit.keys.sops_yaml import read_keys
    from secretkit.sops.api import recipients_of

    keys: SopsYaml = read_keys(ctx.root)
    clan = ctx.clan()
    inventory = ctx.inventory()
    facts = ctx.nix()
    sops = ctx.sops_by_path()
    results = []
    seen: set[tuple[str, str]] = set()
    for decl in facts.declarations:
        for target in _targets(ctx, decl, inventory):
            if target.path is None:
                results.append(_cannot_verify("host-readable", decl, target))
                continue
            path = target.path
            hosts = (
                [target.host]
                if target.host is not None
                else sorted(inventory.hosts_at(decl.file, decl.offset))
            )
            for host in hosts:
                if (host, path) in seen:
                    continue
                seen.add((host, path))
                if clan is not None and (path in clan.secrets or path.startswith("sops/")):
                    entry = sops.get(path)
                    got = [r for g in recipients_of(entry.sops) for r in g] if entry else []
                    problem = clan_host_problem(clan, host, path, decl.file, got)
                    if problem is not None:
                        results.append(problem)
                    continue
                problem = _host_problem(keys, host, path, decl.file, sops, recipients_of)
                if problem is not None:
                    results.append(problem)
    for host, key in sorted(keys.hosts.items()):
        rule = keys.host_rule(host)
        if rule is not None and key not in rule.recipients:
            results.append(
                CheckResult(
                    "host-readable",
                    False,
                    f"the creation rule for secrets/{host}.yaml does not name &host_{host}",
                    f"add *host_{host} to that rule in .sops.yaml, then secretkit updatekeys",
                    (".sops.yaml",),
                )
            )
    return results or [
        CheckResult("host-readable", True, "every host can read the sops files it uses")
    ]


def _host_problem(
    keys: SopsYaml,
    host: str,
    path: str,
    used_by: str,
    sops: dict[str, _SopsEntry],
    recipients_of: Callable[[SopsFile], list[list[str]]],
) -> CheckResult | None:
    """Why ``host`` cannot read ``path`` (which its module ``used_by`` reads), if so."""
    from secretkit.layouts.sops_nix import host_key

    key = host_key(keys.hosts, keys.keys, host)
    if key is None:
        return CheckResult(
            "host-readable",
            False,
            f"host {host} uses {path} (in {used_by}) but has no &host_{host} key in .sops.yaml",
            f"secretkit hosts add {host} --ssh-pubkey-file "
            f"<its ssh_host_ed25519_key.pub>, then secretkit updatekeys {path}",
            (path, used_by),
        )
    entry = sops.get(path)
    if entry is None:
        return None  # nix-secret-refs reports the missing file
    recipients = {r for group in recipients_of(entry.sops) for r in group}
    if key in recipients:
        return None
    rule = keys.rule_for(path)
    in_rule = rule is not None and key in rule.recipients
    anchor = next((n for n, v in keys.keys.items() if v == key), f"host_{host}")
    fix = (
        f"secretkit updatekeys {path}"
        if in_rule
        else f"add *{anchor} to the creation rule for {path} in .sops.yaml, "
        f"then secretkit updatekeys {path}"
    )
    return CheckResult(
        "host-readable",
        False,
        f"host {host} cannot read {path} (used by {used_by}): &{anchor} is not a recipient",
        fix,
        (path, used_by),
    )


def check_agenix(ctx: CheckContext) -> list[CheckResult]:
    """agenix/ragenix files (only when the repository has ``secrets.nix`` + ``*.age``)."""
    from secretkit.gate.agenix_checks import agenix_results
    from secretkit.layouts.agenix import read_agenix

    agenix = read_agenix(ctx.root, ctx.files())
    if agenix is None:
        return []
    return agenix_results(ctx.root, agenix, ctx.judge.identities())


# The points of the gate, in the order they are shown.
CHECKS: dict[str, Callable[[CheckContext], list[CheckResult]]] = {
    "plaintext-tree": check_plaintext_tree,
    "plaintext-history": check_plaintext_history,
    "sops-mac": check_sops_mac,
    "sops-recipients": check_sops_recipients,
    "nix-secret-refs": check_nix_refs,
    "host-readable": check_host_readable,
    "decrypted-copy": check_decrypted_copies,
    "agenix": check_agenix,
}


# What a plain source tree (``nix flake check``) cannot show, and why.
NEEDS_MORE_THAN_SOURCE: dict[str, str] = {
    "plaintext-history": "needs the git history: run `secretkit check` in a clone",
    "sops-mac": "needs a private key to verify the MACs: run `secretkit check` "
    "where your age key is",
}


def _repo_root_if_any(cwd: Path) -> Path | None:
    from secretkit.errors import SecretkitError
    from secretkit.git import repo_root

    try:
        return repo_root(cwd)
    except SecretkitError:  # git is not installed: a plain directory it is
        return None


def run_check(
    cwd: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    stage: Callable[[str], None] | None = None,
    source_only: bool = False,
) -> CheckReport:
    """Run every point of the gate on the repository containing ``cwd`` — or, with
    ``source_only``, the points a plain source tree at ``cwd`` allows.  ``progress``
    follows the history scan; ``stage(point)`` is called while any other point runs."""
    from secretkit.commands.hook import SopsJudge
    from secretkit.errors import SecretkitError
    from secretkit.gate.progress import ticking

    if source_only:
        # In a clone, the files are git's (tracked and untracked-not-ignored) as for the
        # full check; in a plain directory (a flake's store copy) every file counts.
        top = _repo_root_if_any(cwd)
        root, walk = (top, False) if top is not None else (cwd, True)
    else:
        root, walk = require_repo(cwd), False
    ctx = CheckContext(root=root, judge=SopsJudge(), progress=progress, walk=walk)
    results: list[CheckResult] = []
    not_run: list[tuple[str, str]] = []
    for check_id, check in CHECKS.items():
        if source_only and check_id in NEEDS_MORE_THAN_SOURCE:
            not_run.append((check_id, NEEDS_MORE_THAN_SOURCE[check_id]))
            continue
        try:
            with ticking(stage, check_id):
                results.extend(check(ctx))
        except SecretkitError as exc:
            results.append(
                CheckResult(
                    check_id,
                    False,
                    f"cannot verify (the point could not run): {exc.message}",
                    exc.hint or "fix the error above and run secretkit check again",
                )
            )
    return CheckReport(results, not_run)
