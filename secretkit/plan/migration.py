"""A migration run: hardcoded Nix secrets → per-host sops files + sops-nix references.

Two steps so that a caller can show the plan and ask before anything changes:

* :func:`prepare` — recover an interrupted run, scan, discover hosts, check
  every needed host key, and compute the :class:`~secretkit.plan.build.Plan`
  (rewritten Nix bytes, values per host file, sops-nix wiring);
* :func:`apply` — one :class:`~secretkit.atomic.Transaction`: the sops files
  first (written through the engine, read back and verified), then the Nix
  files; any failure rolls every file back, and a killed run is rolled back by
  the next one, which then does the whole job again.

A second run finds nothing to do: the secrets are gone from the Nix code.
``secretkit migrate`` and ``secretkit demo`` both run these.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secretkit.atomic import Transaction, recover
from secretkit.errors import IntegrityError, NoIdentityError, UserError
from secretkit.nix import cst
from secretkit.nix.sops_refs import secret_names
from secretkit.plan.advice import (
    OUTSIDE_MODULES_ROUTE,
    defines_hosts,
    home_route_of,
    host_refusal,
    inline_finder,
    inline_modules,
    nixos_modules,
    own_module_finder,
    rel_path,
    repo_pin,
    unowned_hint,
    unowned_reason,
    value_route_of,
)
from secretkit.plan.build import build_plan
from secretkit.plan.host_names import hostname_mismatches
from secretkit.plan.key_guards import file_guards, missing_keys
from secretkit.plan.model import FindingLike, Plan, Refused
from secretkit.plan.refusals import naming_modules, other_file_note
from secretkit.plan.value_files import value_file_reason
from secretkit.sensitive import Sensitive

if TYPE_CHECKING:
    from secretkit.nix.hosts import Inventory
    from secretkit.scan.model import Finding
    from secretkit.sops.engine import IdentitySource
    from secretkit.sops.identities import Identities


@dataclass
class Prepared:
    """A plan and what :func:`apply` needs to carry it out."""

    root: Path
    plan: Plan
    findings: int
    notes: list[str] = field(default_factory=list)
    identities: Identities | None = field(default=None, repr=False)  # loaded once
    dry_run: bool = False
    locked: int = 0  # findings waiting for a key that opens their host's sops file
    elsewhere: int = 0  # findings in files that are not Nix (moved by hand, notes say how)


def _refuse_before_planning(
    plan: Plan,
    findings: Sequence[FindingLike],
    reason: Callable[[Any], str],
    route: tuple[str, ...] | Callable[[Any], tuple[str, ...]] = (),
) -> None:
    """List ``findings`` as refused (in file and line order with the plan's own), and
    redact their values wherever a diff shows them (``route``: each one's steps)."""
    if not findings:
        return
    steps = route if callable(route) else (lambda _f: route)
    plan.refused += [
        Refused(f.path, f.line, getattr(f, "attrpath", None) or "", reason(f), steps(f))
        for f in findings
    ]
    plan.refused.sort(key=lambda r: (r.module, r.line))
    plan.originals += [f.secret for f in findings]


def prepare(
    root: Path,
    *,
    hosts: Sequence[str] = (),
    dry_run: bool = False,
    also: Sequence[FindingLike] = (),
    without_admin: bool = False,
    identities: IdentitySource = None,
) -> Prepared:
    """Everything up to (not including) the first write.

    A missing ``.sops.yaml``, host key or creation rule stops the run; with
    ``dry_run`` it becomes a note, so the plan can be looked at before any key exists.
    ``also``: findings the caller knows of beyond the scanner's (same spans are taken
    once) — positions a detector does not report yet, a hook's own findings.
    ``identities``: the keys to use (default: the environment's, loaded once here and
    kept for :func:`apply`)."""
    from secretkit.nix.hosts import discover
    from secretkit.nix.wiring import plan_wiring
    from secretkit.plan.hostkeys import OTHER_KEY_SOURCES, host_key_problems
    from secretkit.plan.hostvalues import collect as collect_values
    from secretkit.scan.worktree import scan_tree
    from secretkit.sops.engine import LazyIdentities

    source = identities if callable(identities) else LazyIdentities(loaded=identities)
    recover(root)
    report = scan_tree(root)
    findings: list[Any] = [f for f in report.findings if f.path.endswith(".nix")]
    seen = {(f.path, f.start, f.end) for f in findings}
    findings += [f for f in also if (f.path, f.start, f.end) not in seen]
    others = sorted({f.path for f in report.findings if not f.path.endswith(".nix")})
    inventory = discover(root)
    _refuse_clan(root, findings, inventory)
    known = sorted(inventory.hosts)
    selected = set(hosts) if hosts else None
    for name in hosts:
        if name not in inventory.hosts:
            raise _unknown_host(root, name, known, inventory.unresolved)

    def hosts_of(path: str) -> list[str]:
        return sorted(inventory.hosts_of_file(path))

    def users(finding: Any) -> list[str]:
        """The hosts using the code of ``finding`` (in a file that defines hosts, such
        as ``flake.nix``: those whose inline module holds it, or none)."""
        return sorted(inventory.hosts_at(finding.path, finding.start))

    # Stop before writing: every file with a secret must belong to a host, and
    # every host that receives a secret needs its key in .sops.yaml.
    needed: set[str] = set()
    shared: set[str] = set()  # hosts that read a shared module's secrets by hostName
    # found in the index, not in the work tree (a sparse checkout): nothing to edit here
    absent = [f for f in findings if not (root / f.path).is_file()]
    findings = [f for f in findings if (root / f.path).is_file()]
    unowned = [f for f in findings if not users(f)]
    if unowned and not known:  # nothing can be migrated: say why once
        raise UserError(
            f"{unowned[0].path} holds a secret but no host configuration imports it",
            hint=unowned_hint(known, inventory.notes),
        )
    # a file no host imports: its findings are refused (with the way out), the rest
    # of the repository is migrated (its value has no host whose sops file could hold it)
    findings = [f for f in findings if users(f)]
    # a module of a home-manager or nix-darwin configuration (sops-nix's modules for them
    # take other keys; migrate writes NixOS hosts' files and wiring): refused, with the way
    foreign: dict[int, str] = {}
    # a file only imported for its value (`creds = import ./c.nix`): no module, refused
    valued: dict[int, list[str]] = {}

    def read_file(rel: str) -> bytes | None:
        return _file_bytes(root / rel)

    for finding in findings:
        importers = inventory.value_importers(finding.path)
        # (it has users: not "no host")
        why = host_refusal(inventory, finding.path, finding.start, read_file)
        if why is None and importers is not None:
            valued[id(finding)] = [p.as_posix() for p in importers]
            why = value_file_reason(finding.path, valued[id(finding)])
        if why is not None:
            foreign[id(finding)] = why
    unmoved = [f for f in findings if id(f) in foreign]
    findings = [f for f in findings if id(f) not in foreign]
    for finding in findings:
        using = users(finding)
        if selected is None or set(using) <= selected:  # else refused by the plan
            needed.update(using)
            if len(using) > 1 or len(hosts_of(finding.path)) > 1:  # (read by hostName)
                shared.update(using)
    from secretkit.keys.sops_yaml import validate_name

    for host in sorted(needed):  # a host name becomes secrets/<name>.yaml and &host_<name>
        validate_name(host)

    sources: dict[str, bytes] = {}
    host_modules = nixos_modules(root, inventory)
    wanted = {f.path for f in findings} | {"flake.nix"}
    wanted |= {m for mods in host_modules.values() for m in mods}
    # where a host's `modules = [ … ]` is (nixos/default.nix calling nixosSystem): wiring
    wanted |= {rel_path(root, f) for f in inventory.site_files()}
    for rel in sorted(wanted):
        file = root / rel
        if rel.endswith(".nix") and file.is_file():
            sources[rel] = file.read_bytes()

    from secretkit.plan.targets import choose

    # The user's own layout (defaultSopsFile, a file per host under their own rule):
    # new secrets go into the file the host already uses, not a second layout.
    targets = choose(
        root,
        needed,
        inventory.hosts,
        sources,
        host_modules,
        cst.parse,
        inline_modules(root, inventory),
    )
    missing = missing_keys(root, needed, targets)
    if not missing:
        missing = file_guards(root, needed, without_admin, targets, source)
    if missing and not dry_run:
        raise missing[0]
    missing += hostname_mismatches(sources, inventory, shared)
    if missing and not dry_run:
        raise missing[0]

    reserved: set[str] = set()
    for data in sources.values():
        if b"secrets" in data:
            reserved |= secret_names(cst.parse(data))
    held = source()
    closed: dict[str, str] = {}  # host → why its sops file cannot be opened here
    if needed:
        from secretkit.sops import operations

        for host in sorted(needed):
            path = root / targets.file(host)
            if path.exists():
                try:
                    plain = operations.decrypt_bytes(
                        path.read_bytes(), "yaml", held, source=targets.file(host)
                    )
                except NoIdentityError as exc:  # that host's findings wait for a key
                    closed[host] = f"{exc.message} ({exc.hint})" if exc.hint else exc.message
                    continue
                for keys, _ in plain.leaves():
                    reserved.add("/".join(str(k) for k in keys))
    locked = [f for f in findings if set(users(f)) & closed.keys()]
    findings = [f for f in findings if not set(users(f)) & closed.keys()]

    # Literal values by start offset, per parsed tree (the trees are kept alive here,
    # so their id() stays unique while the plan is built).
    trees: list[Any] = []
    literals: dict[int, dict[int, str]] = {}

    def parse(data: bytes) -> Any:
        tree = cst.parse(data)
        trees.append(tree)
        return tree

    def literal_of(tree: Any, node: Any) -> str:
        table = literals.get(id(tree))
        if table is None:
            table = literals[id(tree)] = {s.start: s.value for s in cst.strings(tree)}
        start = int(node.start_byte)
        if start not in table:
            raise UserError("a secret's string literal could not be read", hint="report this")
        return table[start]

    # (the whole inventory: a module a nix-darwin system also imports gets no NixOS option)
    pin = repo_pin(lambda rel: sources.get(rel) or _file_bytes(root / rel))
    wiring = plan_wiring(sources, inventory, parse, release=pin.release)
    host_values = collect_values(sources, host_modules, parse, inline_modules(root, inventory))
    plan = build_plan(
        sources,
        findings,
        hosts_of,
        parse=parse,
        literal_of=literal_of,
        reserved=reserved,
        selected=selected,
        extra_edits=wiring.edits,
        host_values=host_values,
        pin=pin,
        targets=targets,
        inline_at=inline_finder(inventory),
        own_module=own_module_finder(inventory, sources.get),
        users_at=inventory.hosts_at,
    )
    # findings the planner never saw: refused here, each with its reason
    hint = unowned_hint(known, inventory.notes) if unowned else ""
    _refuse_before_planning(
        plan,
        unowned,
        lambda f: unowned_reason(inventory, f.path),
        lambda f: (OUTSIDE_MODULES_ROUTE if defines_hosts(inventory, f.path) else hint,),
    )
    _refuse_before_planning(
        plan,
        absent,
        lambda f: (
            "the file is not in the work tree (a sparse checkout leaves it out): check "
            "it out to migrate it (git sparse-checkout add "
            f"{posixpath.dirname(f.path) or '/' + f.path})"
        ),
    )
    _refuse_before_planning(
        plan, locked, lambda f: next(closed[h] for h in users(f) if h in closed)
    )
    _refuse_before_planning(
        plan,
        unmoved,
        lambda f: foreign[id(f)],
        lambda f: (
            value_route_of(f, valued.get(id(f)), hosts_of(f.path), sources, targets)
            or home_route_of(inventory, f.path, read_file)
        ),
    )
    if plan.moves:
        plan.wiring = [n for n in wiring.notes]
    counts = Counter(f.path for f in report.findings)
    archives = {f.path: f.file for f in report.findings if f.inside == "archive"}

    def module_file(module: str) -> str:  # (the hosts' one sops file, else the pattern)
        files = {targets.route_file(h) for h in hosts_of(module)}
        return files.pop() if len(files) == 1 else "secrets/<host>.yaml"

    def chosen(path: str) -> bool:  # (--host: a file only other hosts' modules name)
        naming = {m for m, _line, _eval in naming_modules(path, sources)}
        return selected is None or not naming or any(set(hosts_of(m)) & selected for m in naming)

    notes = [
        other_file_note(path, sources, counts[path], archives.get(path), module_file)
        for path in others
        if chosen(path)
    ]
    notes += [f"after deploying: {note}" for note in plan.notes]
    if plan.moves:
        receiving = {h for m in plan.moves for h in m.hosts}
        unwired = wiring.unwired_error(receiving)
        if unwired is not None:  # their sops options would not evaluate: nothing written
            missing.append(unwired)
            if not dry_run:
                raise unwired
        if not any(k in data for data in sources.values() for k in OTHER_KEY_SOURCES):
            notes += host_key_problems(sorted(receiving), host_values, sources, host_modules)
        if pin.release is None:
            notes.append(
                f"NixOS release unknown ({pin.source}): routes were not checked "
                "against the release; pin nixpkgs to a release branch (flake.lock, or "
                "niv's/npins' sources.json, lon.lock) to have them checked"
            )
    notes += [f"before applying: {problem.message} ({problem.hint})" for problem in missing]
    return Prepared(
        root=root,
        plan=plan,
        findings=len(findings),
        notes=notes,
        identities=held,
        dry_run=dry_run,
        locked=len(locked),
        elsewhere=sum(1 for f in report.findings if not f.path.endswith(".nix")),
    )


# A module that gives sops-nix another key than the ssh host key: nothing to check.


def _file_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _unknown_host(
    root: Path, name: str, known: list[str], unresolved: list[tuple[Path, str]]
) -> UserError:
    """``--host name`` where discovery found no such NixOS configuration; a host with a
    key in .sops.yaml (``hosts list`` shows it) is told apart, with why discovery
    could not read the Nix code when it says."""
    from secretkit.keys import sops_yaml

    found = f"hosts found in the Nix code: {', '.join(known) or 'none'}"
    if name not in sops_yaml.read_keys(root).hosts:
        return UserError(f"no host named {name} in this repository", hint=found)
    notes = [f"{path.as_posix()}: {text}" for path, text in unresolved[:2]]
    why = f" (not read: {'; '.join(notes)})" if notes else ""
    return UserError(
        f"host {name} has a key in .sops.yaml, but secretkit found no NixOS configuration "
        f"of it in the Nix code{why}",
        hint=f"{found}; declare it where secretkit reads hosts (nixosConfigurations.{name} "
        "= nixpkgs.lib.nixosSystem { modules = [ … ]; } in flake.nix, or a colmena hive)",
    )


def _verify(
    data: bytes, rel: str, values: dict[tuple[str, ...], Sensitive[str]], identities: Identities
) -> None:
    """Read a written sops file back: structure always, values when a key opens it."""
    from secretkit.sops import document, operations

    sops = operations.load(data, "yaml")
    try:
        key = operations.data_key_of(sops, identities, source=rel)
    except IntegrityError:
        key = None
    if key is None:
        if not operations.recipients_of(sops):
            raise IntegrityError(f"{rel} was written without recipients")
        return
    plain = document.decrypt(sops, key)
    for path, value in values.items():
        if plain.get(list(path)) != value.reveal():
            raise IntegrityError(
                f"{rel}: {'/'.join(path)} did not read back", hint="nothing was changed"
            )


def apply(prepared: Prepared) -> list[str]:
    """Write the plan (sops files first, then Nix); return the paths written."""
    from secretkit.sops import operations
    from secretkit.sops.config import find_config
    from secretkit.sops.identities import load_identities

    root, plan = prepared.root, prepared.plan
    written: list[str] = []
    if plan.empty:
        return written
    identities = prepared.identities or load_identities()
    config = find_config(root)
    with Transaction(root) as txn:
        for host, values in sorted(plan.sops.items()):
            rel = plan.secret_file(host)
            path = root / rel
            existing = path.read_bytes() if path.exists() else None
            rule = config.rule_for(path) if config is not None else None
            data = operations.set_values(
                existing,
                "yaml",
                {k: v.reveal() for k, v in values.items()},
                rule=rule,
                identities=identities,
                source=rel,
            )
            txn.write(path, data, None if existing is not None else 0o644)
            _verify(path.read_bytes(), rel, values, identities)
            written.append(rel)
        for rel, (old, new) in sorted(plan.nix.items()):
            path = root / rel
            if path.read_bytes() != old:
                raise UserError(f"{rel} changed while migrate was running", hint="run it again")
            txn.write(path, new)
            written.append(rel)
    return written


def _refuse_clan(root: Path, findings: Sequence[Finding], inventory: Inventory) -> None:
    """A clan-core repository keeps its secrets in clan's own layout (sops/secrets/,
    sops/machines/, vars/): writing secrets/<host>.yaml and .sops.yaml rules next to it
    would be a second, incompatible layout.  Say what to run instead."""
    from secretkit.layouts.clan import read_clan, store_route

    if not findings or read_clan(root, []) is None:
        return
    first = findings[0]
    machines = inventory.clan_machines_of_file(first.path)
    others = inventory.hosts_of_file(first.path) - machines  # (clan gives them nothing)
    route = store_route(first.attrpath, first.path, machines, others)
    more = " (`secretkit check` names each one's command)" if len(findings) > 1 else ""
    raise UserError(
        f"this is a clan-core repository (sops/machines, sops/secrets): secretkit migrate "
        f"would write a second, incompatible secrets layout; {len(findings)} value(s) to "
        f"move, the first at {first.path}:{first.line}",
        hint=f"for each value{more}, {route}",
    )
