"""Which sops file a declared secret reads, for each host that imports its module.

A ``sopsFile`` computed from the host name (``../secrets + "/${config.networking.hostName}.yaml"``,
as ``migrate`` writes it in a shared module) is resolved once per host:
``config.networking.hostName`` is the string literal the host's code sets, else the
host's name in the inventory.  What cannot be resolved without evaluating Nix is a
target without a path, with the reason: the caller fails its point.  :func:`holds_key`:
whether the sops file holds the key a declaration reads."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from secretkit.gate.model import CheckResult
from secretkit.nix.sops_refs import HOSTNAME, Declaration, resolve_for_host

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext
    from secretkit.nix.hosts import Inventory
    from secretkit.sops.document import SopsFile


@dataclass(frozen=True)
class Target:
    """The sops file one declaration reads, for one host or for every host."""

    path: str | None  # repo-relative; None when it cannot be resolved statically
    host: str | None = None  # None: the same file whichever host imports the module
    why: str = ""  # when path is None: why not (names and paths only)
    option: str = "sopsFile"  # the option that names the file: sopsFile or sops.defaultSopsFile
    fix: str = ""  # when path is None and the way out is not writing the option otherwise


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _default_file(ctx: CheckContext, decl: Declaration) -> str | None:
    """The file a declaration of a module no host imports reads: its own module's
    ``sops.defaultSopsFile``, else the repository's one, when every one it sets is
    that file (one computed per host, ``./hosts/${hostName}.yml``, may be the one)."""
    facts = ctx.nix()
    defaults = facts.default_files
    if decl.file in defaults:
        return defaults[decl.file]
    if (set(facts.default_texts) | facts.defaults_anywhere) - set(defaults):
        return None  # (a default no reading can resolve, or set where it cannot be placed)
    distinct = set(defaults.values())
    return distinct.pop() if len(distinct) == 1 else None


UNRESOLVED_FIX = (
    "write sopsFile as a relative path literal (../secrets/<host>.yaml) or, in a NixOS "
    'module shared by several hosts, as ../secrets + "/${config.networking.hostName}.yaml" '
    "(what secretkit migrate writes; a home-manager module has no networking.hostName: "
    "there, one declaration per user's file), then run secretkit check again"
)
DEFAULT = "sops.defaultSopsFile"


def unresolved_fix(option: str) -> str:
    """How to write ``option`` (``sopsFile`` or ``sops.defaultSopsFile``) so that it resolves."""
    return UNRESOLVED_FIX.replace("write sopsFile", f"write {option}", 1)


def targets(ctx: CheckContext, decl: Declaration, inventory: Inventory) -> list[Target]:
    """The sops file(s) ``decl`` reads: one for all hosts when it is a path literal, one
    per host using the module when it is computed from the host name; a target without
    a path when it cannot be resolved statically (the caller fails the point)."""
    facts = ctx.nix()
    if decl.sops_file is not None:
        return [Target(decl.sops_file)]
    text, written_in, option = decl.sops_file_text, decl.file, "sopsFile"
    hosts = sorted(inventory.hosts_at(decl.file, decl.offset))
    clan = ctx.clan()
    if text is None and clan is not None and decl.file not in facts.default_texts:
        # clan's sops module declares sops/secrets/<name>/secret for every secret whose
        # folder links the machine; the module here only adds owner, mode, …
        if not inventory.hosts_at(decl.file, decl.offset):
            return []  # a module no machine imports: nothing reads this declaration
        return [Target(f"sops/secrets/{decl.name}/secret")]
    if text is None:
        if decl.file in facts.default_texts:
            text, option = facts.default_texts[decl.file], DEFAULT
        elif not hosts:
            default = _default_file(ctx, decl)
            if default is not None:
                return [Target(default)]
            why = (  # (several defaults, or one where secretkit cannot place it)
                f"it has no sopsFile, and no host secretkit found imports {decl.file}, so "
                "which host's sops.defaultSopsFile it reads is not known"
            )
            return [Target(None, None, why)]
        else:  # the default set by the host's own modules
            return [_host_default(ctx, decl, inventory, host) for host in hosts]
    if resolve_for_host(written_in, text, None) is not None:
        return [Target(resolve_for_host(written_in, text, None))]
    if HOSTNAME not in " ".join(text.split()):
        return [Target(None, None, f"{option} = {_short(text)} needs evaluating Nix", option)]
    if not hosts:
        return [
            Target(
                None,
                None,
                f"{option} = {_short(text)} names the host, but no host imports {decl.file}",
                option,
            )
        ]
    targets = []
    for host in hosts:
        name, unnamed, fix = _host_name(ctx, inventory, host)
        if unnamed:
            targets.append(Target(None, host, unnamed, option, fix))
            continue
        path = resolve_for_host(written_in, text, name) if name is not None else None
        why = (
            ""
            if path is not None
            else f"host {host} sets networking.hostName to several different values"
            if name is None
            else f"{option} = {_short(text)} needs evaluating Nix"
        )
        targets.append(Target(path, host, why, option))
    return targets


_NAME_IT = (
    'set networking.hostName = "{host}"; in a module of {host}, then run secretkit check again'
)
# where the host sets it to what no reading can tell: a second definition would conflict
_REWRITE_IT = (
    "write that networking.hostName as something secretkit reads: a string literal, or the "
    "name the host set hands each host (mapAttrs (name: host: …) gives `name`), equal to "
    "the host's name {host} (or rename the host to its hostName), then run secretkit check "
    "again"
)


def _host_name(ctx: CheckContext, inventory: Inventory, host: str) -> tuple[str | None, str, str]:
    """``config.networking.hostName`` on ``host``: the string literal its code sets, else
    its name in the inventory when its code sets it otherwise (``lib.mkDefault name``:
    migrate relies on the two being equal); None when its code sets several different
    literals.  And why it has none when its code never sets it: NixOS then names it
    ``nixos`` (colmena does not name a node after itself either), or sets it to what
    no reading can tell; with the fix for that."""
    facts = ctx.nix()
    names = {
        name for file, offset, name in facts.host_names if host in inventory.hosts_at(file, offset)
    }
    told = {(file, offset): name for file, offset, name in inventory.hosts[host].host_names}
    opaque = []
    for file, offset, text in facts.host_name_opaque:
        if host in inventory.hosts_at(file, offset):
            if (file, offset) in told:  # (what discovery read it to be for this host)
                names.add(told[file, offset])
            else:
                opaque.append((file, text))
    name_it = _NAME_IT.format(host=host)
    if names:
        return (names.pop() if len(names) == 1 else None), "", name_it
    if opaque:  # (`host.hostName` of a host set: what it is needs evaluating Nix)
        file, text = opaque[0]
        why = (
            f"host {host} sets networking.hostName = {text} ({file}), which secretkit cannot "
            "read without evaluating Nix, so the file named after it is not known"
        )
        return None, why, _REWRITE_IT.format(host=host)
    if any(host in inventory.hosts_at(file, offset) for file, offset in facts.host_name_sets):
        return host, "", name_it
    if inventory.hosts[host].named:  # (its builder sets it to its name: Host.named)
        return host, "", name_it
    if inventory.hosts[host].unseen(but_sops_nix=True):
        why = (
            f"host {host} sets networking.hostName in no module secretkit can read (and "
            'without one NixOS names it "nixos")'
        )
        return None, why, name_it
    why = (
        f'host {host} sets no networking.hostName, so NixOS names it "nixos" and it reads '
        f"the file of that name"
    )
    return None, why, name_it


def _host_default(ctx: CheckContext, decl: Declaration, inventory: Inventory, host: str) -> Target:
    """sops.defaultSopsFile as host ``host`` sets it (in any of its modules)."""
    facts = ctx.nix()
    modules = {m.as_posix() for m in inventory.hosts[host].modules}
    texts = {(f, t) for f, t in facts.default_texts.items() if f in modules}
    name, unnamed, fix = _host_name(ctx, inventory, host)
    paths = {resolve_for_host(f, t, name) for f, t in texts}
    if unnamed and any(HOSTNAME in " ".join(t.split()) for _f, t in texts):
        return Target(None, host, unnamed, DEFAULT, fix)
    if len(paths) == 1 and None not in paths:
        return Target(paths.pop(), host)
    if not texts:
        why = "it has no sopsFile and the host's modules set no sops.defaultSopsFile"
    elif None in paths:
        shown = ", ".join(sorted(f"{f}: {_short(t, 60)}" for f, t in texts))
        why = f"it has no sopsFile and sops.defaultSopsFile needs evaluating Nix ({shown})"
    else:
        why = "it has no sopsFile and the host's modules set different sops.defaultSopsFile"
    return Target(None, host, why, DEFAULT)


def for_host(target: Target) -> str:
    return f" for host {target.host}" if target.host else ""


def cannot_verify(check_id: str, decl: Declaration, target: Target) -> CheckResult:
    fix = target.fix or unresolved_fix(target.option)  # (the option actually written)
    return CheckResult(
        check_id,
        False,
        f'cannot verify: {decl.file}: sops.secrets."{decl.name}"{for_host(target)}: {target.why}',
        fix,
        (decl.file,),
        group=f"cannot verify: a declared secret's {target.option} cannot be resolved without "
        "evaluating Nix",
        group_fix=fix,
    )


def _some(names: list[str]) -> str:
    """The first three of ``names``, and "…" when there are more."""
    return ", ".join(names[:3]) + (" …" if len(names) > 3 else "")


def unread_hosts(inventory: Inventory, point: str, files: set[str], what: str) -> list[CheckResult]:
    """Hosts whose list of modules discovery could not read at all, while ``files``
    ``what``: any of those hosts may import them, so what was checked of the hosts it
    read says nothing of these (one result).  None when there are none."""
    unread = sorted(
        h.name for h in inventory.hosts.values() if not h.resolved and h.source != "home-manager"
    )
    if not unread or not files:
        return []
    gaps = [g for name in unread for g in inventory.hosts[name].unseen()]
    notes = [n for n in inventory.notes if set(unread) & inventory.hosts_of_note(n)]
    why = f" ({gaps[0]})" if gaps else f" ({notes[0].file}: {notes[0].text})" if notes else ""
    shown, used = _some(unread), _some(sorted(files))
    return [
        CheckResult(
            point,
            False,
            f"cannot verify: secretkit could not read which modules host(s) {shown} use"
            f"{why}; they may import the {len(files)} file(s) that {what} ({used})",
            "make the hosts' modules something secretkit reads (nixosConfigurations.<name> "
            "= nixpkgs.lib.nixosSystem { modules = [ … ]; }, imports as paths; `secretkit "
            "hosts list` names each one's modules), then run secretkit check again",
            tuple(sorted(files)),
        )
    ]


def no_host_read(
    inventory: Inventory, point: str, unused: set[str], what: str
) -> list[CheckResult]:
    """Files that ``what`` (use sops-nix, declare sops secrets) and no host imports,
    while discovery found no host or could not follow an import: a host may import them
    there, so "ok" would be said of what was not read (one result).  None otherwise."""
    from secretkit.plan.advice import unfollowed_imports

    # imports not followed, or a set of hosts not read (`darwinConfigurations = …` built
    # from what discovery cannot follow): hosts it does not know may import them
    unfollowed = unfollowed_imports(inventory.notes)
    unfollowed += [n for n in inventory.notes if n.kind == "host-set"]
    if not unused or not ((not inventory.hosts and inventory.notes) or unfollowed):
        return []
    note = (unfollowed or inventory.notes)[0]
    found = "found no host configuration" if not inventory.hosts else "found no host"
    shown = _some(sorted(unused))
    return [
        CheckResult(
            point,
            False,
            f"cannot verify: {len(unused)} file(s) {what} ({shown}) but secretkit {found} "
            f"importing them: it could not follow {note.file}: {note.text}",
            "make what it could not follow something it reads (hosts declared as "
            "nixosConfigurations.<name> = nixpkgs.lib.nixosSystem { modules = [ … ]; } "
            "or a colmena hive, imports as paths; `secretkit hosts list` names each "
            "one), or delete those files if nothing uses them (no host, and no home-manager "
            "or nix-darwin configuration); then run secretkit check again",
            tuple(sorted(unused)),
        )
    ]


def holds_key(sops: SopsFile, key: str) -> bool:
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
