"""The gate's points on Nix: ``nix-secret-refs`` (every used secret is declared and exists
as a key in its sops file), ``sops-nix-module`` (every host using sops-nix imports its
module); ``host-readable`` is :mod:`secretkit.gate.host_readable`'s."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from secretkit.gate import computed_names, placeholders
from secretkit.gate.computed_names import clan_store, computing_at, may_be_computed
from secretkit.gate.deployment_keys import host_only_key_sources
from secretkit.gate.flake_input import locked_for_release, missing_input
from secretkit.gate.home_manager_refs import undeclared_os_refs
from secretkit.gate.host_declarations import declared_elsewhere
from secretkit.gate.inline_config import outer_config_refs
from secretkit.gate.model import CheckResult
from secretkit.gate.module_sites import line_of, where_modules_are
from secretkit.gate.nix_refused import given_twice
from secretkit.gate.reference_kinds import literal_paths, undeclared, wrong_kinds
from secretkit.gate.secret_targets import (
    cannot_verify,
    for_host,
    holds_key,
    no_host_read,
    targets,
    unread_hosts,
)
from secretkit.gate.secret_yaml_refs import unresolved_keys
from secretkit.gate.sops_checks import untracked_rules
from secretkit.gate.user_secrets import option_at, password_files_too_late
from secretkit.nix import catalogue
from secretkit.plan.refusals import keys_of

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext
    from secretkit.nix.hosts import Inventory


def _sops_file_for(module: str, hosts: list[str]) -> str:
    """The ``sopsFile`` path literal a declaration in ``module`` would use: the file of
    the host(s) importing it (as migrate writes it), relative to the module."""
    from secretkit.plan.targets import path_literal, sops_file_expr

    expr = sops_file_expr(module, hosts) if hosts else None
    return expr if expr is not None else path_literal(module, "secrets") + "/<host>.yaml"


def another_hosts_file(ctx: CheckContext, path: str, readers: list[str]) -> str | None:
    """The host whose own sops file ``path`` is (``secrets/<h>.yaml``), when some of
    ``readers`` is another host: a value stored there is that host's alone."""
    from secretkit.keys.sops_yaml import read_keys
    from secretkit.layouts.sops_nix import file_owner

    owner = file_owner(read_keys(ctx.root).hosts, path)
    return owner if owner is not None and any(h != owner for h in readers) else None


def check_nix_refs(ctx: CheckContext) -> list[CheckResult]:
    facts = ctx.nix()
    inventory = ctx.inventory()
    results = []
    declared = {d.name for d in facts.declarations}
    for name, file, _offset, line in facts.references:
        if name in declared:
            continue
        stored = clan_store(ctx, name, inventory.hosts_at(file, _offset))
        if stored is not False:
            results += [] if stored is True else [stored]
            continue
        computing = computing_at(ctx, file, _offset)
        if computing is not None:  # (a computed sops.secrets may declare it)
            results.append(may_be_computed(file, line, name, computing))
            continue
        option = option_at(ctx, file, _offset)
        reader = f"the user {option} is read as" if option else "the user that reads it"
        owner = (  # (what the catalogue knows of that option's reader, else the question)
            f'owner = "<{reader}>"; }}; (leave owner out only if root reads it: the '
            "file is root's alone without it)"
        )
        known = catalogue.lookup(option.split(".")) if option else None
        if known is not None and known.key == "write-text-file":
            known = None  # (the catch-all: which user reads the file is not known)
        if known is not None and known.reader.kind in ("systemd", "root"):
            owner = f"}}; (no owner: {known.reader.kind} reads it, as root)"
        elif known is not None and known.reader.owner is not None:
            owner = f"owner = {known.reader.owner}; }};"
        what, hint, placeholder = undeclared(ctx, file, _offset, name, declared)
        owner = "}; (its template's owner is the one a program needs)" if placeholder else owner
        results.append(
            CheckResult(
                "nix-secret-refs",
                False,
                f"{file}:{line}: {what} is used but never declared",
                f'declare it: sops.secrets."{name}" = {{ sopsFile = '
                f"{_sops_file_for(file, sorted(inventory.hosts_of_file(file)))}; "
                f"{owner}, and store its value with secretkit set{hint}",
                (file,),
            )
        )
    results += declared_elsewhere(ctx, declared)
    results += outer_config_refs(ctx) + password_files_too_late(ctx) + undeclared_os_refs(ctx)
    sops = ctx.sops_by_path()
    untracked: set[str] = set()  # said once per file
    rules_too = untracked_rules(ctx)
    flake = not ctx.walk and (ctx.root / "flake.nix").is_file()
    checked = 0
    unused: set[str] = set()  # files whose declarations no host reads
    for decl in computed_names.keyed(facts.declarations):
        # (sops-nix: key = "" is the whole file, not a key of it)
        key = decl.key if decl.key is not None else decl.name
        found = targets(ctx, decl, inventory)
        if not found:
            unused.add(decl.file)
        for target in found:
            if target.path is None:
                results.append(cannot_verify("nix-secret-refs", decl, target))
                continue
            checked += 1
            where = f'{decl.file}: sops.secrets."{decl.name}"{for_host(target)}'
            entry = sops.get(target.path)
            if entry is None:
                missing = ctx.read(target.path) is None
                what = "does not exist" if missing else "is not a sops file"
                fix = f"create it: secretkit set {target.path} '{keys_of(key)}' (value on stdin)"
                config = ctx.config()
                if missing and (config is None or config.rule_for(ctx.root / target.path) is None):
                    # (secretkit set refuses a file no creation rule matches: exit 3)
                    fix = (
                        f"no .sops.yaml creation rule matches {target.path}: point sopsFile at "
                        "a host's file (`secretkit hosts list` names each host's rule), or add "
                        f"a rule whose path_regex matches it (`secretkit hosts add HOST` makes "
                        f"secrets/HOST.yaml's); then {fix}"
                    )
                if not missing and target.path not in ctx.tracked():
                    # on disk but ignored: a flake and every clone lack it
                    what = "git ignores (it is not in the repository)"
                    fix = (
                        f"track it: git add -f {target.path} (or drop its .gitignore rule, "
                        "`git check-ignore -v` names it), then commit it"
                    )
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
            if flake and target.path not in ctx.tracked() and target.path not in untracked:
                # a flake is the git tree: a file git does not track yet is not in it
                untracked.add(target.path)
                results.append(
                    CheckResult(
                        "nix-secret-refs",
                        False,
                        f"{where} reads {target.path}, which git does not track yet: a flake "
                        "does not see it, and evaluation fails (file not found)",
                        f"git add {target.path}{rules_too}",
                        (decl.file, target.path),
                        "a sops file git does not track yet (a flake does not see it)",
                    )
                )
            if key and decl.fmt in (None, "yaml", "json") and not holds_key(entry.sops, key):
                path_expr = keys_of(key)
                readers = (
                    [target.host]
                    if target.host
                    else sorted(inventory.hosts_at(decl.file, decl.offset))
                )
                other = another_hosts_file(ctx, target.path, readers)
                results.append(
                    CheckResult(
                        "nix-secret-refs",
                        False,
                        f'{where} needs key "{key}" in {target.path}, which has no such key',
                        f"add it: secretkit set {target.path} '{path_expr}' (value on stdin)"
                        if other is None  # (a value there would be that host's alone)
                        else f"not there: {target.path} is {other}'s own file, which "
                        f"{', '.join(h for h in readers if h != other)} cannot read; give it "
                        "a copy of its own (host-readable's fix says how)",
                        (decl.file, target.path),
                    )
                )
    if len(untracked) > 1:  # one line for them all, with one command that adds them all
        every = f"git add {' '.join(sorted(untracked))}{rules_too}"
        results = [
            replace(r, group_fix=every) if r.group.startswith("a sops file git") else r
            for r in results
        ]
    pairs, unowned_vars = 0, set[str]()
    if ctx.clan() is not None:
        from secretkit.gate.clan_checks import clan_var_refs

        nix_files = {p: d for p in ctx.files() if p.endswith(".nix") for d in [ctx.read(p)] if d}
        pairs, problems, unowned_vars = clan_var_refs(ctx.root, nix_files, inventory.hosts_of_file)
        results.extend(problems)
        results += no_host_read(inventory, "nix-secret-refs", unowned_vars, "use clan vars")
    results += no_host_read(inventory, "nix-secret-refs", unused, "declare sops secrets")
    declaring = {d.file for d in facts.declarations}
    results += unread_hosts(inventory, "nix-secret-refs", declaring, "declare sops secrets")
    results += given_twice(facts, {path: ctx.read(path) for path in facts.given_twice})
    results += placeholders.outside_templates(facts) + placeholders.checked_at_build(ctx)
    results += wrong_kinds(ctx) + unresolved_keys(ctx) + literal_paths(ctx)
    results += host_only_key_sources(ctx)
    results += computed_names.not_settled(ctx)
    n_refs = len(facts.references)
    note = (
        f" (sops.secrets names computed in {', '.join(sorted(set(facts.dynamic)))}: "
        "references to them are checked by name, their keys are not looked up)"
        if facts.dynamic
        else ""
    )
    if facts.unparsed:
        note += f" ({len(facts.unparsed)} file(s) with Nix syntax errors read partially)"
    if unused:
        note += f" (declared in {len(unused)} file(s) no machine imports: not checked)"
    if ctx.clan() is not None:
        unowned = (
            f" ({len(unowned_vars)} file(s) using clan vars no machine imports: not checked)"
            if unowned_vars
            else ""
        )
        note = f"; {pairs} clan var use(s) by machines, all generated{unowned}" + note
    return results or [
        CheckResult(
            "nix-secret-refs",
            True,
            f"{len(facts.declarations)} declared secret(s) ({checked} host/file pair(s)), "
            f"{n_refs} reference(s), all resolve{note}",
        )
    ]


_NO_OPTION = 'evaluating it fails with "The option `sops\' does not exist"'


def _home_module_results(inventory: Inventory, home_uses: dict[str, str]) -> list[CheckResult]:
    """Hosts whose home-manager modules use sops-nix without its home-manager module
    (``sops.*`` there is not an option: the host does not evaluate)."""
    results = []
    for name, where in sorted(home_uses.items()):
        host = inventory.hosts[name]
        state = host.imports_sops_nix_home()
        if state:
            continue
        fix = (
            "add sops-nix's homeManagerModules.sops to home-manager.sharedModules (or to "
            "the imports of that user's home-manager configuration)"
        )
        if state is None:
            seen = host.unseen(but_sops_nix=True)
            results.append(
                CheckResult(
                    "sops-nix-module",
                    False,
                    f"cannot verify: a home-manager module of host {name} uses sops-nix "
                    f"({where}); sops-nix's homeManagerModules.sops is not among the modules "
                    "secretkit can read, and may come through "
                    f"{seen[0] if seen else 'a module it cannot read'}",
                    f"{fix}, where secretkit can see it, then run secretkit check again",
                    (where.rsplit(":", 1)[0],),
                )
            )
            continue
        results.append(
            CheckResult(
                "sops-nix-module",
                False,
                f"a home-manager module of host {name} uses sops-nix ({where}) but no "
                "home-manager configuration of it imports homeManagerModules.sops: "
                "sops.* is no option there, and the host does not evaluate",
                fix,
                (where.rsplit(":", 1)[0],),
            )
        )
    return results


def check_sops_module(ctx: CheckContext) -> list[CheckResult]:
    """``sops-nix-module``: every host whose modules declare ``sops.secrets``, set
    another sops-nix option or read ``config.sops.*`` imports sops-nix's NixOS module
    (else it does not evaluate).  What discovery cannot follow is never taken for
    absence: "cannot verify"."""
    facts = ctx.nix()
    inventory = ctx.inventory()
    uses: dict[str, str] = {}  # host -> the first place it uses sops-nix, file:line
    home_uses: dict[str, str] = {}  # the same, in its home-manager modules
    sites: list[tuple[str, int, int | None]] = [
        (d.file, d.offset, None) for d in facts.declarations
    ]
    sites += [(file, offset, line) for _name, file, offset, line in facts.references]
    sites += [(file, offset, None) for file, offset in facts.settings]
    sites += [(d.file, d.offset, None) for d in facts.computed_declarations]
    sites += [(file, offset, line) for file, offset, line, *_ in facts.opaque_references]
    unused: set[str] = set()  # files using sops-nix that no host imports
    for file, offset, known in sorted(sites, key=lambda s: (s[0], s[1])):
        users = inventory.hosts_at(file, offset)
        if not users:
            unused.add(file)
        for name in users:
            line = known if known is not None else line_of(ctx, file, offset)
            # a home-manager module's sops.* is sops-nix's home-manager module's
            into = home_uses if inventory.is_home_module(name, file) else uses
            into.setdefault(name, f"{file}:{line}")
    results = _home_module_results(inventory, home_uses) + missing_input(ctx)
    results += locked_for_release(ctx)
    for name, where in sorted(uses.items()):
        host = inventory.hosts[name]
        state = host.imports_sops_nix()
        if state:
            continue
        target, module, needs = where_modules_are(ctx, host, inventory)
        if state is None:
            seen = host.unseen()
            fix = (
                f"import {module} in {target}{needs}, where secretkit can see it (sops-nix's "
                "module is a path: imported twice, it counts once), then run secretkit "
                "check again"
            )
            results.append(
                CheckResult(
                    "sops-nix-module",
                    False,
                    f"cannot verify: host {name} uses sops-nix ({where}); its NixOS module "
                    f"is not among the modules secretkit can read, and may come through "
                    f"{seen[0] if seen else 'a module it cannot read'}",
                    fix,
                    (where.rsplit(":", 1)[0],),
                )
            )
            continue
        fix = f"add {module} to {target}{needs}"
        results.append(
            CheckResult(
                "sops-nix-module",
                False,
                f"host {name} uses sops-nix ({where}) but does not import its "
                f"{'nix-darwin' if host.darwin else 'NixOS'} module: {_NO_OPTION}",
                fix,
                (where.rsplit(":", 1)[0],),
            )
        )
    shown = ", ".join(sorted(unused)[:3]) + (" …" if len(unused) > 3 else "")
    results += no_host_read(inventory, "sops-nix-module", unused, "use sops-nix")
    results += unread_hosts(inventory, "sops-nix-module", {s[0] for s in sites}, "use sops-nix")
    passed = (
        f"{len(uses)} host(s) using sops-nix, each imports its NixOS module"
        if uses
        else "no host uses sops-nix" + (" in its NixOS modules" if home_uses else "")
    )
    if not uses and ctx.clan() is not None:
        passed = "no machine uses sops-nix in its own modules (clan-core imports it for vars)"
    if home_uses:
        passed += (
            f"; {len(home_uses)} host(s) using it in home-manager modules, each with "
            "homeManagerModules.sops"
        )
    if unused:
        passed += f" ({len(unused)} file(s) using it that no host imports: {shown})"
    return results or [CheckResult("sops-nix-module", True, passed, paths=tuple(sorted(unused)))]
