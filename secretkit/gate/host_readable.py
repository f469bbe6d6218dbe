"""The gate's point ``host-readable``: every host can read the sops files its
configuration uses (its key in ``.sops.yaml`` is a recipient of each), and the keys
sops-nix is told to use are the ones ``.sops.yaml`` names."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import TYPE_CHECKING

from secretkit.gate.host_key_files import stale_host_keys
from secretkit.gate.key_at_boot import keys_at_boot
from secretkit.gate.leaked_keys import leaked_recipients
from secretkit.gate.model import CheckResult
from secretkit.gate.secret_targets import cannot_verify, no_host_read, targets, unread_hosts

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext, SopsEntry
    from secretkit.keys.sops_yaml import SopsYaml
    from secretkit.nix.sops_refs import Declaration
    from secretkit.sops.document import SopsFile


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
    # (a host key the repository holds that is not the one .sops.yaml names)
    results += stale_host_keys(ctx, lambda host: _own_key(ctx, host))
    results += leaked_recipients(ctx)  # (a host key made from one the repository holds)
    results += no_host_read(inventory, "host-readable", unowned, "declare sops secrets")
    declaring = {d.file for d in facts.declarations}
    results += unread_hosts(inventory, "host-readable", declaring, "declare sops secrets")
    if not any(not r.ok for r in results):
        pairs = len(seen)  # (a home-manager module's file is the user's: not counted)
        # (verified: the key .sops.yaml names; that it is the host's, hosts add saw)
        said = (
            "the key .sops.yaml names for each host is named a recipient of every sops "
            f"file it uses ({pairs} host/file pair(s); a key block relabelled by hand: "
            "sops-recipients)"
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
    from secretkit.layouts.sops_nix import (
        file_owner,
        host_anchor,
        host_key,
        host_secrets_path,
        host_slug,
    )

    used_by, named = decl.file, "hostName" in (decl.sops_file_text or "")
    key = host_key(keys.hosts, keys.keys, host)
    if key is None:
        add = (
            f"the public half of the key its sops-nix uses ({own_key}): secretkit hosts add "
            f"{host_slug(host)} --ssh-pubkey-file <that key's .pub> (--age <its age1…> for an age "
            "keyFile); a key other hosts share is refused (one host's key would open the "
            f"others' files): give {host} a key of its own there first"
            if own_key
            else f"secretkit hosts add {host_slug(host)} --ssh-pubkey-file "
            "<its ssh_host_ed25519_key.pub>"
        )
        other = file_owner(keys.hosts, path, but=host)
        then = (  # (another host's own file: its rule never names this host, helper-129)
            f", then secretkit check again: {path} is {other}'s own file, so {host} needs a "
            "copy of its own (check then says how)"
            if other is not None
            else f", then secretkit updatekeys {path}"
            if path in sops  # (a file not written yet gets the key when it is made)
            else ""
        )
        return CheckResult(
            "host-readable",
            False,
            f"host {host} uses {path} (in {used_by}) but has no &{host_anchor(host)} key in "
            ".sops.yaml",
            add + then,
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
    owner = file_owner(keys.hosts, path, but=host)
    if owner is not None and not in_rule:  # (another host's own file: never shared)
        mine = host_secrets_path(host)
        folder = posixpath.relpath(posixpath.dirname(mine), posixpath.dirname(used_by) or ".")
        folder = folder if folder.startswith("..") else f"./{folder}"  # (a Nix path)
        stored = "".join(f'["{part}"]' for part in (decl.key or decl.name).split("/"))
        fix = (
            f"give {host} its own copy: the value in {mine} under the same key (secretkit "
            f"set {mine} '{stored}' reads it from stdin), read through sopsFile = {folder} + "
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
