"""The gate's points on Nix: ``nix-secret-refs`` (every used secret is declared and exists
as a key in its sops file), ``host-readable`` (every host can read the sops files its
configuration uses), ``sops-nix-module`` (every host using sops-nix imports its module)."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from secretkit.gate import computed_names, placeholders
from secretkit.gate.computed_names import clan_store, computing_at, may_be_computed
from secretkit.gate.deployment_keys import host_only_key_sources
from secretkit.gate.flake_input import locked_for_release, missing_input
from secretkit.gate.home_manager_refs import undeclared_os_refs
from secretkit.gate.host_declarations import declared_elsewhere
from secretkit.gate.inline_config import outer_config_refs
from secretkit.gate.key_at_boot import keys_at_boot
from secretkit.gate.leaked_keys import leaked_recipients
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
    from secretkit.gate.context import CheckContext, SopsEntry
    from secretkit.keys.sops_yaml import SopsYaml
    from secretkit.nix.hosts import Inventory
    from secretkit.nix.sops_refs import Declaration
    from secretkit.sops.document import SopsFile


def _sops_file_for(module: str, hosts: list[str]) -> str:
    """The ``sopsFile`` path literal a declaration in ``module`` would use: the file of
    the host(s) importing it (as migrate writes it), relative to the module."""
    from secretkit.plan.targets import path_literal, sops_file_expr

    expr = sops_file_expr(module, hosts) if hosts else None
    return expr if expr is not None else path_literal(module, "secrets") + "/<host>.yaml"


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
                results.append(
                    CheckResult(
                        "nix-secret-refs",
                        False,
                        f'{where} needs key "{key}" in {target.path}, which has no such key',
                        f"add it: secretkit set {target.path} '{path_expr}' (value on stdin)",
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


def check_host_readable(ctx: CheckContext) -> list[CheckResult]:
    from secretkit.gate.clan_checks import clan_host_problem
    from secretkit.keys.sops_yaml import read_keys
    from secretkit.layouts.sops_nix import host_anchor, host_secrets_path
    from secretkit.sops.operations import recipients_of

    keys: SopsYaml = read_keys(ctx.root)
    clan = ctx.clan()
    inventory = ctx.inventory()
    facts = ctx.nix()
    sops = ctx.sops_by_path()
    results = []
    seen: set[tuple[str, str]] = set()
    home: dict[str, set[str]] = {}  # sops files home-manager modules read → their hosts
    unowned: set[str] = set()  # files declaring sops secrets that no host imports
    for decl in [*facts.declarations, *facts.computed_declarations]:  # (a file, named or not)
        for target in targets(ctx, decl, inventory):
            if target.path is None:
                results.append(cannot_verify("host-readable", decl, target))
                continue
            path = target.path
            hosts = (
                [target.host]
                if target.host is not None
                else sorted(inventory.hosts_at(decl.file, decl.offset))
            )
            if not hosts:
                unowned.add(decl.file)
            for host in hosts:
                if inventory.is_home_module(host, decl.file):  # (the user's key, not the host's)
                    home.setdefault(path, set()).add(host)
                    continue
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
                problem = _host_problem(
                    keys, host, path, decl, sops, recipients_of, _own_key(ctx, host)
                )
                if problem is not None:
                    results.append(problem)
    for host, key in sorted(keys.hosts.items()):
        rule = keys.host_rule(host)
        if rule is not None and key not in rule.recipients:
            results.append(
                CheckResult(
                    "host-readable",
                    False,
                    f"the creation rule for {host_secrets_path(host)} does not name "
                    f"&{host_anchor(host)}",
                    f"add *{host_anchor(host)} to that rule in .sops.yaml, "
                    "then secretkit updatekeys",
                    (".sops.yaml",),
                )
            )
    for path, users in sorted(home.items()):
        # sops-nix's home-manager one opens these with the user's key: said, not checked
        results.append(
            CheckResult(
                "host-readable",
                True,
                f"warning: {path} is read by a home-manager module (host "
                f"{', '.join(sorted(users))}) with the user's age key, not checked here: "
                "that key must be one of its recipients",
                f"add the user's age1… key to the creation rule of {path} in .sops.yaml if "
                f"it is not there, then secretkit updatekeys {path}",
                (path,),
                warning=True,
            )
        )
    results += _host_key_warnings(ctx, {host for host, _path in seen}, home) + keys_at_boot(ctx)
    results += leaked_recipients(ctx)  # (a host key made from one the repository holds)
    results += no_host_read(inventory, "host-readable", unowned, "declare sops secrets")
    declaring = {d.file for d in facts.declarations}
    results += unread_hosts(inventory, "host-readable", declaring, "declare sops secrets")
    if not any(not r.ok for r in results):
        pairs = len(seen)  # (a home-manager module's file is the user's: not counted)
        # (verified: the key .sops.yaml names; that it is the host's, hosts add saw)
        said = (
            "the key .sops.yaml names for each host is a recipient of every sops file it "
            f"uses ({pairs} host/file pair(s))"
            if pairs
            else "no host reads a sops file: nothing to check"
        )
        if clan is not None:  # (machines' keys are clan's links, not .sops.yaml's)
            said = (
                f"each machine's clan key is a recipient of every sops file it declares "
                f"({pairs} machine/file pair(s)); clan vars: see sops-recipients"
                if pairs
                else "no machine declares sops secrets of its own; clan vars: see sops-recipients"
            )
        results.insert(0, CheckResult("host-readable", True, said))
    return results


def _host_key_warnings(
    ctx: CheckContext, hosts: set[str], home: dict[str, set[str]]
) -> list[CheckResult]:
    """Hosts whose secrets open with the ssh host key, which NixOS never generates for
    them: services.openssh not enabled is warned as migrate warns
    (:func:`secretkit.plan.hostkeys.host_key_problems`), not failed (a key installed by
    other means, nixos-anywhere --extra-files, does exist, and turning sshd on is no
    harmless fix); hostKeys without the ed25519 key sops-nix reads fails as not
    verified, with the fix that holds either way (listing it: sshd keeps a key that is
    there)."""
    from secretkit.plan.hostkeys import NO_ED25519, OTHER_KEY_SOURCES, host_key_problems

    inventory = ctx.inventory()
    clan = ctx.clan() is not None
    readers = sorted(
        h
        for h in hosts
        if h in inventory.hosts
        and not any(h in u for u in home.values())
        # clan-core points sops.age.keyFile at the machine's own age key, which
        # `clan machines update` installs, when the clan holds it (clan-lol/clan-core
        # fa011934, nixosModules/clanCore/vars/secret/sops/default.nix)
        and not (clan and (ctx.root / f"sops/secrets/{h}-age.key/secret").is_file())
    )
    sources = ctx.nix_sources()
    if not readers or any(k in d for d in sources.values() for k in OTHER_KEY_SOURCES):
        return []
    modules = {
        h: [m.as_posix() for m in inventory.hosts[h].modules - inventory.hosts[h].home_modules]
        for h in readers
    }
    # hostKeys without the key sops-nix reads: not verified (sshd off: a warning)
    return [
        CheckResult(
            "host-readable",
            False,
            f"cannot verify: {text.partition('; ')[0]}",
            text.partition("; ")[2],
            (),
        )
        if NO_ED25519 in text
        else CheckResult(
            "host-readable",
            True,
            f"warning: {text.partition(';')[0]}",
            text.partition("; ")[2],
            (),
            warning=True,
        )
        for text in host_key_problems(readers, ctx.host_values(), sources, modules)
    ]


def _own_key(ctx: CheckContext, host: str) -> str | None:
    """How ``host``'s NixOS modules set sops-nix's key, when not to the ssh host key
    alone (:func:`secretkit.nix.sops_refs.own_key`), else None."""
    from secretkit.nix.sops_refs import own_key

    found = ctx.inventory().hosts.get(host)
    if found is None:
        return None
    modules = (m.as_posix() for m in found.modules - found.home_modules)  # not a user's
    return own_key(ctx.nix(), modules)


def _host_problem(
    keys: SopsYaml,
    host: str,
    path: str,
    decl: Declaration,
    sops: dict[str, SopsEntry],
    recipients_of: Callable[[SopsFile], list[list[str]]],
    own_key: str | None = None,
) -> CheckResult | None:
    """Why ``host`` cannot read ``path`` (which ``decl``'s module reads), if so.
    ``own_key``: how the host's own modules tell sops-nix which key to use, when they
    do (not the ssh host key): the key to add is that one."""
    from secretkit.layouts.sops_nix import host_anchor, host_key, host_secrets_path

    used_by, named = decl.file, "hostName" in (decl.sops_file_text or "")
    key = host_key(keys.hosts, keys.keys, host)
    if key is None:
        add = (
            f"the public half of the key its sops-nix uses ({own_key}): secretkit hosts add "
            f"{host} --ssh-pubkey-file <that key's .pub> (--age <its age1…> for an age "
            "keyFile); a key other hosts share is refused (one host's key would open the "
            f"others' files): give {host} a key of its own there first"
            if own_key
            else f"secretkit hosts add {host} --ssh-pubkey-file <its ssh_host_ed25519_key.pub>"
        )
        return CheckResult(
            "host-readable",
            False,
            f"host {host} uses {path} (in {used_by}) but has no &{host_anchor(host)} key in "
            ".sops.yaml",
            f"{add}, then secretkit updatekeys {path}",
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
    anchor = next((n for n, v in keys.keys.items() if v == key), host_anchor(host))
    fix = (
        f"secretkit updatekeys {path}"
        if in_rule
        else f"add *{anchor} to the creation rule for {path} in .sops.yaml, "
        f"then secretkit updatekeys {path}"
    )
    owner = next((h for h in keys.hosts if h != host and host_secrets_path(h) == path), None)
    if owner is not None and not in_rule:  # (another host's own file: never shared)
        mine = host_secrets_path(host)
        folder = posixpath.relpath(posixpath.dirname(mine), posixpath.dirname(used_by) or ".")
        folder = folder if folder.startswith("..") else f"./{folder}"  # (a Nix path)
        fix = (
            f"give {host} its own copy: the value in {mine} under the same key (secretkit "
            f"set {mine} … reads it from stdin), read through sopsFile = {folder} + "
            f'"/${{config.networking.hostName}}.yaml" in {used_by}, or stop using {path} on '
            f"{host}"
            + (f' (its networking.hostName says {owner}: make it "{host}")' if named else "")
            + f"; adding {host} to the rule of {path} would let it read every secret of {owner}"
        )
    if own_key:  # the key under the anchor must be the one sops-nix uses there
        fix += (
            f"; &{anchor} must be the public half of the key {host}'s sops-nix uses "
            f"({own_key}): if it is not, secretkit rotate host {host} --ssh-pubkey-file "
            "<that key's .pub> first"
        )
    return CheckResult(
        "host-readable",
        False,
        f"host {host} cannot read {path} (used by {used_by}): &{anchor} is not a recipient",
        fix,
        (path, used_by),
    )


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
