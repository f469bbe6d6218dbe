"""Would ``migrate`` move this finding?  The planner's own decision, for one file.

Hook and check messages suggest ``secretkit migrate`` only for a finding the
planner accepts; for the others they name the manual route.  The decision is
:func:`secretkit.plan.build.build_plan` run on the one file, with the repository's
pinned NixOS release (:func:`repo_pin`: a route the release lacks is refused by
migrate, so the advice must not name migrate for it) and, where the caller has them,
the hosts using the file and what their other modules set (:func:`host_values`):
migrate refuses a rewrite whose option another module of those hosts sets already
(``hashedPasswordFile`` in an impermanence module), and resolves computed names
(``users.users.${config.my.user}``) through them.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from secretkit.layouts.sops_nix import host_slug
from secretkit.plan.build import InlineAt, OwnModule, build_plan
from secretkit.plan.model import FindingLike
from secretkit.plan.refusals import HASH_FEED, WRITE, route_step

if TYPE_CHECKING:
    from secretkit.nix.hosts import Inventory
    from secretkit.nix.hosts.model import Note
    from secretkit.plan.hostvalues import HostValues
    from secretkit.plan.release import Pin
    from secretkit.plan.targets import Targets


_FOREIGN_KINDS = {
    "home-manager": (
        "home-manager configuration",
        "sops-nix's homeManagerModules.sops, with the user's own age key (sops.age.keyFile)",
    ),
    "darwin": ("nix-darwin configuration", "sops-nix's darwinModules.sops"),
}


def nixos_host(inventory: Inventory, name: str) -> bool:
    """Whether ``name`` is a NixOS host (not a home-manager or nix-darwin configuration,
    whose secrets sops-nix reads through its other modules)."""
    host = inventory.hosts.get(name)
    kinds = set(host.source.split("+")) if host is not None else set()
    return not kinds & _FOREIGN_KINDS.keys()


# what a refusal for a home-manager or nix-darwin configuration says (such a value goes
# into a file of its own key, not the host's: Refusal.own_file)
NIXOS_ONLY = "migrate writes NixOS hosts' sops files"


def foreign_reason(inventory: Inventory, names: list[str]) -> str:
    name = names[0]
    kinds = set(inventory.hosts[name].source.split("+")) & _FOREIGN_KINDS.keys()
    what, module = _FOREIGN_KINDS[sorted(kinds)[0]]
    more = f" (and {len(names) - 1} more)" if len(names) > 1 else ""
    # the file it is stored in needs a creation rule first (secretkit set refuses without)
    slug = host_slug(name)
    return (
        f"the file is used by the {what} {name}{more}: {NIXOS_ONLY}; move it by hand with "
        f"{module}, after `secretkit hosts add {slug} --age "
        f"<the age key it decrypts with>` gives secrets/{slug}.yaml a creation rule"
    )


# what discovery notes when it cannot follow an import (nix.hosts.closure)
_UNFOLLOWED = ("imports ", "import of ", "module from ", "module path built from ", "modules ")


def unfollowed_imports(notes: Sequence[Note]) -> list[Note]:
    """The notes (of host discovery) about imports it could not follow."""
    return [n for n in notes if n.reason.startswith(_UNFOLLOWED)]


# where a value outside the hosts' modules in the file that defines them goes instead
OUTSIDE_MODULES_ROUTE = (
    "move the value into a module file of the host that uses it (where an option takes "
    "it), then run secretkit migrate; or store it with `secretkit set secrets/<host>.yaml "
    '\'["<name>"]\'` and point that option at config.sops.secrets."<name>".path'
)


def defines_hosts(inventory: Inventory, path: str) -> bool:
    """Whether ``path`` holds hosts' inline modules (``flake.nix``, a flake-parts file
    calling ``nixosSystem``, ``hive.nix``): its other code is not a NixOS module."""
    rel = Path(path)
    return any(f == rel for h in inventory.hosts.values() for f, _s, _e in h.inline)


def unowned_reason(inventory: Inventory, path: str | None = None) -> str:
    """Why a file with a secret has no host: said as a fact only when every import
    was followed.  ``path``: the finding's file, when it may be one that defines hosts
    (the finding is then outside all their modules)."""
    shared = _shared_by(inventory.root, path) if path is not None else None
    if shared is not None:  # (a file of values a flake hands every module: no module)
        name, importer = shared
        return (
            f"{importer} imports this file for its values ({name} = import ./{path}, handed "
            "to every module): it is no module, and a value moves where a module gives it to "
            "an option"
        )
    if path is not None and defines_hosts(inventory, path):
        return (
            f"secretkit finds it in none of the hosts' modules in {path}, the file that "
            "defines them (a value passed to modules, a module no host imports, or one "
            "secretkit cannot read as a module, such as mkIf around the whole of it)"
        )
    unread = unread_host_sets(inventory.notes)
    if unread:  # hosts it could not read may import it
        first = unread[0]
        return (
            "no host secretkit could read imports this file, and it could not read every "
            f"host ({first.file.as_posix()}: {first.text}; `secretkit hosts list` shows "
            "what it could not follow)"
        )
    if not unfollowed_imports(inventory.notes):
        return "no host configuration imports this file"
    return (
        "no host configuration imports this file as far as secretkit can follow (some "
        "imports it cannot follow: `secretkit hosts list` shows them)"
    )


def _shared_by(root: Path, path: str) -> tuple[str, str] | None:
    """``(name, file)`` when a :data:`~secretkit.scan.nix_imports.SHARING` file binds
    ``name = import ./<path>`` (a flake's specialArgs: every module gets it)."""
    from secretkit.scan.nix_imports import SHARING, bound_imports

    for importer in SHARING:
        try:
            data = (root / importer).read_bytes()
        except OSError:
            continue
        for name, target in bound_imports(importer, data).items():
            if target == path:
                return name, importer
    return None


def unread_host_sets(notes: Sequence[Note]) -> list[Note]:
    """The notes (of host discovery) about hosts it could not read: a set of hosts built
    by code it does not follow, a host whose name is computed."""
    return [
        n
        for n in notes
        if n.kind == "host-set" or " is built from " in n.reason or "computed name" in n.reason
    ]


# where a value moved by hand goes: a path is no value (hashedPassword = <path> is not
# the password)
FILE_OPTION = (
    'give config.sops.secrets."<name>".path to an option that reads a file (its *File '
    "option: hashedPasswordFile for a hashedPassword, whose declaration needs "
    "neededForUsers = true), never as the value itself"
)


def unowned_hint(known: list[str], notes: Sequence[Note]) -> str:
    """The way out for a file with a secret that no host uses: its value goes to the
    sops file of each host that imports it, so some host must.  (Adding a host's key
    does not help: which files a host uses is read from the Nix code.)  Imports that
    discovery could not follow may be how a host uses it: then they are named."""
    unfollowed = unfollowed_imports(notes)
    by_hand = (
        "; if it is not a module but values passed to modules (specialArgs, `import "
        "./vars`), move the value by hand: `secretkit set secrets/<host>.yaml "
        f"'[\"<name>\"]'` for each host that uses it, then {FILE_OPTION}"
    )
    if known and unfollowed:
        first = unfollowed[0]
        more = f" and {len(unfollowed) - 1} more" if len(unfollowed) > 1 else ""
        return (
            f"secretkit could not follow some imports ({first.file.as_posix()}: "
            f"{first.text}{more}; `secretkit hosts list` shows them all): if a host "
            "imports this file through one of them, write those imports as paths "
            "(imports = [ ../common/x.nix ];) so they can be followed; or delete the value "
            "if no host uses it" + by_hand
        )
    host_sets = [n for n in notes if n.kind == "host-set"]  # (nix.hosts.flake: built how)
    if not known and host_sets:  # the hosts are defined, in a way discovery cannot read
        first = host_sets[0]
        return (
            f"secretkit found no host: it could not read {first.file.as_posix()}"
            f"{f' line {first.line}' if first.line else ''} ({first.reason}; `secretkit hosts "
            "list` shows every such place); it reads nixosConfigurations.<name> = "
            "nixpkgs.lib.nixosSystem { modules = [ … ]; }, a colmena hive and hosts/<name>/ "
            "folders. Until then move the value by hand: `secretkit hosts add <host> --age "
            "<its key>`, `secretkit set secrets/<host>.yaml '[\"<name>\"]'` (reads it from "
            f"stdin), and {FILE_OPTION}"
        )
    if not known:
        return (
            "no host was found in this repository (`secretkit hosts list` says what it "
            "read): define the hosts in flake.nix (nixosConfigurations.<name>) or a colmena "
            "hive, then import this file from the hosts that use it"
        )
    shown = ", ".join(known[:6]) + (f" and {len(known) - 6} more" if len(known) > 6 else "")
    return (
        f"import it from the configuration of the hosts that use it (this repository's hosts: "
        f"{shown}; `secretkit "
        "hosts list` shows what each imports), or delete the value if no host uses it" + by_hand
    )


def host_refusal(
    inventory: Inventory,
    path: str,
    offset: int | None = None,
    read: Callable[[str], bytes | None] | None = None,
) -> str | None:
    """Why migrate leaves a finding of ``path`` (at byte ``offset``) alone for the hosts
    that use it (none does; a home-manager or nix-darwin configuration does), else None.
    ``read``: a repository file's bytes (the user a home-manager module is for)."""
    refused = _host_refusal(inventory, path, offset, read)
    return refused.reason if refused is not None else None


def _host_refusal(
    inventory: Inventory,
    path: str,
    offset: int | None,
    read: Callable[[str], bytes | None] | None = None,
) -> Refusal | None:
    """:func:`host_refusal`, with the sops file a value of a home-manager or nix-darwin
    configuration goes in (the one its ``hosts add`` gives a creation rule)."""
    if offset is None:
        users = sorted(inventory.hosts_of_file(path))
    else:
        users = sorted(inventory.hosts_at(path, offset))
    if not users:
        return Refusal(unowned_reason(inventory, path))
    others = [h for h in users if not nixos_host(inventory, h)]
    if others:
        slug = host_slug(others[0])
        return Refusal(foreign_reason(inventory, others), own_file=f"secrets/{slug}.yaml")
    if inventory.home_only(path):
        from secretkit.plan.home_manager import home_users

        module = _FOREIGN_KINDS["home-manager"][1]
        named = home_users(inventory, users, read) if read is not None else []
        user = named[0] if len(named) == 1 else "<user>"
        return Refusal(
            f"the file is a home-manager module of host {', '.join(users)}: {NIXOS_ONLY}; "
            f"move it by hand with {module}, after `secretkit hosts add {user} --age "
            f"<the user's age key>` gives secrets/{user}.yaml a creation rule",
            own_file=f"secrets/{user}.yaml",
        )
    return None


def hosts_refusal(
    inventory: Inventory,
    path: str,
    source: bytes | None,
    finding: FindingLike,
    pin: Pin | None = None,
    read: Callable[[str], bytes | None] | None = None,
) -> Refusal | None:
    """:func:`host_refusal` of ``finding`` as a :class:`Refusal`, with the builder its
    literal names (``source``: the file's bytes): a builder's call is replaced by a path
    whatever configuration reads it.  Asked first, as migrate asks it."""
    refused = _host_refusal(inventory, path, finding.start, read)
    if refused is None:
        return None
    alone = (
        migrate_refusal(path, source, finding, pin, inventory=inventory)
        if source is not None
        else None
    )
    return refused._replace(builder=alone.builder if alone is not None else None)


def repo_pin(read: Callable[[str], bytes | None]) -> Pin:
    """The NixOS release the repository pins, as migrate reads it (``flake.lock``,
    else ``flake.nix``, else niv's or npins' sources.json or lon's lon.lock); ``read``
    gives a repository file's bytes or None."""
    from secretkit.plan.release import pinned

    return pinned(
        read("flake.lock"),
        read("flake.nix"),
        read("nix/sources.json"),
        read("npins/sources.json"),
        read("lon.lock"),
    )


class Refusal(NamedTuple):
    """Why ``migrate`` refuses a finding; ``builder``: the literal is the text of this
    builder's call (``pkgs.writeText``), whose file's path goes where the call was;
    ``manual``: the Nix the route says to write by hand, when it knows what works
    (``LoadCredential`` for a ``DynamicUser`` unit's script); ``declare_in``: the module
    the declaration goes in when it is not the finding's file (that file is imported
    for its value: :func:`value_refusal`); ``hashed``: the option reads the value's
    crypt hash, decrypted before users are made (``hashedPasswordFile``)."""

    reason: str
    builder: str | None = None
    manual: str | None = None
    declare_in: str | None = None
    hashed: bool = False
    own_file: str | None = None  # the sops file of its own configuration's key, not a host's
    steps: tuple[str, ...] = ()  # the whole route by hand, when no sops secret can hold it


def value_refusal(
    inventory: Inventory, path: str, attrpath: str, read: Callable[[str], bytes | None]
) -> Refusal | None:
    """Why ``migrate`` leaves a finding of ``path`` alone when every host reads that
    file for its value only (``creds = import ./creds.nix;``), with the route through
    the module importing it; else None."""
    from secretkit.plan.value_files import value_file_reason, value_read_step, value_uses

    importers = inventory.value_importers(path)
    if importers is None:
        return None
    names = [p.as_posix() for p in importers]
    sources = {n: data for n in names if (data := read(n)) is not None}
    uses = value_uses(attrpath, names, sources)
    module = names[0] if len(names) == 1 else f"each module importing it ({', '.join(names)})"
    manual = value_read_step(path, attrpath, uses, "<name>")
    return Refusal(value_file_reason(path, names), None, manual, module)


def rel_path(root: Path, path: Path | str) -> str:
    """``path`` relative to ``root``, ``/``-separated (as it is when outside ``root``)."""
    p = Path(path)
    if not p.is_absolute():
        p = root / p
    try:
        return p.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def nixos_modules(root: Path, inventory: Inventory) -> dict[str, list[str]]:
    """Each NixOS host's modules, repository-relative: a host's home-manager modules
    are not NixOS modules (no wiring, no defaults), and a home-manager or nix-darwin
    configuration is never wired nor given a NixOS sops file."""
    return {
        name: [rel_path(root, m) for m in info.modules if m not in info.home_modules]
        for name, info in inventory.hosts.items()
        if nixos_host(inventory, name)
    }


def host_values(
    root: Path, inventory: Inventory, read: Callable[[str], bytes | None]
) -> HostValues:
    """What each NixOS host's modules set, as migrate collects it (``read`` gives a
    repository file's bytes or None), for :func:`migrate_refusal`'s ``values``."""
    from secretkit.nix import cst
    from secretkit.plan.hostvalues import collect

    modules = nixos_modules(root, inventory)
    sources: dict[str, bytes] = {}
    for rel in sorted({m for ms in modules.values() for m in ms}):
        data = read(rel) if rel.endswith(".nix") else None
        if data is not None:
            sources[rel] = data
    return collect(sources, modules, cst.parse, inline_modules(root, inventory))


def inline_modules(root: Path, inventory: Inventory) -> dict[str, list[tuple[str, int, int]]]:
    """Each NixOS host's inline modules as ``(file, start, end)``, repository-relative."""
    return {
        name: [(rel_path(root, f), s, e) for f, s, e in info.inline]
        for name, info in inventory.hosts.items()
        if nixos_host(inventory, name)
    }


def migrate_refusal(
    path: str,
    source: bytes,
    finding: FindingLike,
    pin: Pin | None = None,
    *,
    hosts: Sequence[str] = (),
    values: HostValues | None = None,
    inventory: Inventory | None = None,
) -> Refusal | None:
    """None when ``migrate`` would move ``finding`` (in ``path`` holding ``source``,
    on the release ``pin`` names), else the reason it gives for refusing.  ``hosts``:
    those using ``path`` and ``values`` (:func:`host_values`) what they set elsewhere;
    without them one stand-in host, and an option set in another file goes unseen.
    ``inventory``: a finding in an inline module (``flake.nix``) is planned in it, for
    the hosts using it."""
    from secretkit.errors import SecretkitError
    from secretkit.nix import cst

    if not path.endswith(".nix"):
        return Refusal("not a Nix file")

    def literal_of(tree: Any, node: Any) -> str:
        return cst.string_at(tree, node).value

    try:
        plan = build_plan(
            {path: source},
            [finding],
            lambda _p: tuple(hosts) or ("host",),
            parse=cst.parse,
            literal_of=literal_of,
            host_values=values,
            pin=pin,
            inline_at=inline_finder(inventory) if inventory is not None else None,
            own_module=own_module_finder(inventory, _reader(inventory.root))
            if inventory is not None
            else None,
            # (a module's own switch: the hosts that turn it on, as migrate stores them)
            users_at=inventory.hosts_at if inventory is not None else None,
        )
    except SecretkitError as exc:
        return Refusal(exc.message)
    if plan.refused:
        refused = plan.refused[0]
        written = [step for step in refused.route if step.startswith(WRITE)]
        manual = written[0][len(WRITE) :] if written and refused.builder is None else None
        # a catalogue route told in words (an environment file's template line): as said
        routed = [step for step in refused.route if route_step(step)]
        if manual is None and routed and refused.builder is None:
            manual = routed[0][len("and ") :]
        named = re.search(r'sops\.secrets\."([^"]+)" = \{', "\n".join(refused.route))
        if manual is not None and named is not None:  # the fix's own "<name>", not the plan's
            manual = manual.replace(f'"{named[1]}"', '"<name>"')
        hashed = any(step.startswith(HASH_FEED) for step in refused.route)
        if refused.own:  # (the entry's own route: no sops secret can hold the value)
            return Refusal(refused.reason, steps=refused.route)
        return Refusal(refused.reason, refused.builder, manual, refused.declare_in, hashed)
    return None if plan.moves else Refusal("the planner found nothing to move")


def inline_finder(inventory: Inventory) -> InlineAt:
    """:func:`build_plan`'s ``inline_at`` from host discovery."""
    sites = inventory.site_files()

    def inline_at(path: str, offset: int) -> tuple[tuple[int, int], list[str], bool] | None:
        span = inventory.inline_at(path, offset)
        if span is None:
            return None
        hosts = sorted(inventory.hosts_at(path, offset))
        rel = Path(path)
        # (the file is a module of those hosts, not where hosts are built)
        whole = (
            bool(hosts) and rel not in sites and all(rel in inventory.hosts[h].files for h in hosts)
        )
        return span, hosts, whole

    return inline_at


def _reader(root: Path) -> Callable[[str], bytes | None]:
    def read(rel: str) -> bytes | None:
        try:
            return (root / rel).read_bytes()
        except OSError:
            return None

    return read


def own_module_finder(inventory: Inventory, read: Callable[[str], bytes | None]) -> OwnModule:
    """:func:`build_plan`'s ``own_module`` from host discovery: of the files the hosts
    use as whole modules, one used by exactly those hosts (not where hosts are built or
    declared, not a home-manager module), their own entry module first; ``read`` gives
    a file's source (None: unreadable)."""
    sites = inventory.site_files() | set(inventory.definition_files)

    def own(hosts: Sequence[str]) -> tuple[str, bytes] | None:
        wanted = set(hosts)
        found = [inventory.hosts.get(h) for h in sorted(wanted)]
        if not found or any(h is None for h in found):
            return None
        shared = set.intersection(*(set(h.files - h.home_modules) for h in found if h))
        entries = [m for h in found if h for m in h.entry_modules]
        ordered = sorted(
            (m for m in shared if m.suffix == ".nix" and m not in sites),
            key=lambda m: (m not in entries, len(m.parts), m.as_posix()),
        )
        for module in ordered:
            if inventory.hosts_of_file(module) != wanted:
                continue
            data = read(module.as_posix())
            if data is not None:
                return module.as_posix(), data
        return None

    return own


def home_route_of(
    inventory: Inventory, path: str, read: Callable[[str], bytes | None]
) -> tuple[str, ...]:
    """Migrate's manual route for a finding in a home-manager module file of one user
    (:func:`secretkit.plan.home_manager.home_file_steps`), else none."""
    from secretkit.plan.home_manager import home_file_steps, home_users

    if not inventory.home_only(path):
        return ()
    users = home_users(inventory, sorted(inventory.hosts_of_file(path)), read)
    return home_file_steps(path, users[0]) if len(users) == 1 else ()


def value_route_of(
    finding: Any,
    importers: list[str] | None,
    hosts: list[str],
    sources: dict[str, bytes],
    targets: Targets,
) -> tuple[str, ...]:
    """Migrate's manual route for a finding in a file ``importers`` read for its value
    (none for other files): :func:`secretkit.plan.value_files.value_route`."""
    if importers is None:
        return ()
    from secretkit.nix import cst
    from secretkit.nix.catalogue.base import slug
    from secretkit.plan.targets import sops_file_expr
    from secretkit.plan.value_files import value_route, value_uses

    dotted = getattr(finding, "attrpath", None) or ""
    parts = [p for p in dotted.split(".") if p and not p.startswith("[")]
    name = "/".join(slug(p) for p in parts) or f"manual/{slug(finding.path[:-4])}-{finding.line}"
    module = importers[0] if len(importers) == 1 else None
    data = sources.get(module) if module is not None else None
    uses = value_uses(dotted, importers, sources)
    # (the sopsFile path is written in a module that reads the value: from its folder)
    using = sorted({use.rsplit(":", 1)[0] for use in uses})
    folders = {posixpath.dirname(u) for u in using}
    fingerprint = getattr(finding, "fingerprint", None)
    return tuple(
        value_route(
            path=finding.path,
            line=finding.line,
            dotted=dotted,
            importers=importers,
            uses=uses,
            name=name,
            files=[targets.route_file(h) for h in hosts],
            sops_file=sops_file_expr(
                module or (using[0] if len(folders) == 1 else finding.path), hosts, targets
            ),
            tree=cst.parse(data) if data is not None else None,
            fingerprint=fingerprint if isinstance(fingerprint, str) else None,
        )
    )


def host_name_values(
    inventory: Inventory, sources: Mapping[str, bytes], host: str
) -> tuple[set[str], bool, list[str]]:
    """The string literals ``host``'s modules set ``networking.hostName`` to, whether
    any sets it at all (a literal or not: ``lib.mkDefault name``), and the values no
    reading can tell (:func:`secretkit.nix.sops_refs.opaque_host_name`).  In a file
    with inline modules only this host's are read, and the rest of the file only when
    the host uses it whole."""
    from secretkit.nix import cst
    from secretkit.nix.sops_refs import InlineModules, attrset_spans, opaque_host_name

    info = inventory.hosts[host]
    spans = inventory.inline_spans()
    names: set[str] = set()
    opaque: list[str] = []
    bound = info.named  # (its builder sets it to its name)
    if info.named:
        names.add(host)
    for path in info.modules:
        if path in info.home_modules or path in info.values:
            continue
        rel = path.as_posix()
        data = sources.get(rel)
        if data is None or b"hostName" not in data:
            continue
        own = attrset_spans(data, [(s, e) for f, s, e in info.inline if f == path])
        inline = InlineModules(attrset_spans(data, spans.get(rel, [])))
        tree = cst.parse(data)
        told = {(file, at): n for file, at, n in info.host_names if file == rel}
        for binding, literal in cst.host_names(tree, inline.base):
            offset = binding.start
            name = literal if literal is not None else told.get((rel, offset))
            if any(s <= offset < e for s, e in own) or (
                path in info.files and inline.base_of(offset) is None
            ):
                bound = True
                if name is not None:
                    names.add(name)
                elif (text := opaque_host_name(tree, binding.value)) is not None:
                    opaque.append(f"{text} ({rel})")
    return names, bound, opaque
