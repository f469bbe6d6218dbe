"""The gate's point ``service-readable``: a sops secret or template handed to an option
whose reader the option catalogue knows (prometheus' ``basic_auth.password_file``: the
prometheus user) is a file that user can open.

sops-nix writes each secret and template root's, mode 0400, unless its declaration
says ``owner`` (or a ``group`` and ``mode`` that grant it).  A declaration without one
evaluates, deploys and activates; then the service fails to open its file at run time.
migrate writes the owner the catalogue records; this point catches a hand-written (or
hand-edited) declaration.  Which user reads an option's file, and since which NixOS
release, is the catalogue's :class:`~secretkit.nix.catalogue.base.Reader` (with its
nixpkgs source); on the release the repository pins, the owner is the one migrate
would write (:func:`secretkit.plan.release.owner_on`: none where that release still
runs the reader as root, or where systemd hands it the file).

Each host is judged on its own: the declarations of a name its modules hold (NixOS
merges ``owner`` set in one file with the declaration in another) and what its files
set the reader's user option to (``services.nginx.user``; its default where they do
not).  A reference bound in a ``let`` is followed to the options given that name.  An
``owner`` (or ``group``) that cannot be compared fails as not verified, with the owner
to write; one file handed to two readers that run as different users fails with the
way out (a second declaration of the same key)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from secretkit.gate.dynamic_users import MISSING_USER
from secretkit.gate.model import CheckResult

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext
    from secretkit.nix.catalogue.base import Reader
    from secretkit.nix.sops_refs import Declaration

POINT = "service-readable"
# config.sops.secrets."<n>".path / config.sops.templates.<n>.path: the file, not a value
# (or through a name bound to config.sops.secrets: s.x.path; in a with of it: x.path)
_PATH_REF = re.compile(
    rb"(?:(?:config\.sops|[A-Za-z_][A-Za-z0-9_'-]*)(?:\.(?:secrets|templates))?\.)?"
    rb'(?:"[^"\\]*"|[A-Za-z0-9_\'-]+)\.path\b'
)
_PUBLIC = re.compile(r"(?i)(?:^|[^a-z])pub(?:lic)?(?:[-_]?key)?(?:[^a-z]|$)")
# (a service's user option: config.services.nginx.user, or one instance's:
# config.services.restic.backups.b2.user)
_USER_OPTION = re.compile(r"^config\.services(?:\.[A-Za-z0-9_'-]+)+\.user$")
_USERS_NAME = re.compile(r'^config\.users\.users\.(?:"([^"\\$]+)"|([A-Za-z0-9_\'-]+))\.name$')
_USERS_GROUP = re.compile(
    r'^config\.users\.(?:users\.(?:"([^"\\$]+)"|([A-Za-z0-9_\'-]+))\.group'
    r'|groups\.(?:"([^"\\$]+)"|([A-Za-z0-9_\'-]+))\.name)$'
)


@dataclass(frozen=True)
class _Use:
    """One reference to a declared file, at an option a known user reads."""

    file: str
    line: int
    path: tuple[str, ...]
    reader: Reader
    owner: str | None  # what migrate would write on the pinned release (None: root's)


def check_service_readers(ctx: CheckContext) -> list[CheckResult]:
    from secretkit.gate.dynamic_users import dynamic_owners, unknown_owners
    from secretkit.gate.home_manager_refs import home_manager_reads
    from secretkit.gate.script_users import dynamic_reader, script_reader
    from secretkit.gate.secret_yaml_refs import rendered_templates
    from secretkit.nix.catalogue import file_reader
    from secretkit.plan.advice import repo_pin
    from secretkit.plan.release import owner_on

    facts = ctx.nix()
    inventory = ctx.inventory()
    pin = repo_pin(ctx.read)
    results: list[CheckResult] = []
    checked = as_root = unknown = 0
    for kind, declared, references in (
        ("secrets", facts.declarations, facts.references),
        ("templates", facts.templates, facts.template_references),
    ):
        by_name: dict[str, list[Declaration]] = {}
        for decl in declared:
            by_name.setdefault(decl.name, []).append(decl)
        uses: dict[tuple[str, str], list[_Use]] = {}  # (name, host) -> its uses
        for name, file, offset, line in references:
            if name not in by_name or not _PATH_REF.match(ctx.read(file) or b"", offset):
                continue  # (undeclared: nix-secret-refs' failure; a placeholder: a value)
            destinations = _destinations(ctx, file, offset)
            readers = [  # (a unit's script: its User=, as migrate wrote the owner)
                file_reader(list(path)) or script_reader(ctx, file, path) for path in destinations
            ]
            what = f'config.sops.{kind}."{name}".path'
            readable = all(d.others_read() for d in by_name[name])
            dynamic = [dynamic_reader(ctx, file, line, p, what, readable) for p in destinations]
            results += [r for r in dynamic if r is not None]  # (a DynamicUser unit's script)
            unknown += all(reader is None for reader in readers) and not any(dynamic)
            for path, reader in zip(destinations, readers, strict=True):
                if reader is None or reader.kind != "daemon" or reader.owner is None:
                    continue  # (root or systemd reads it, or no one here knows who)
                owner = owner_on(reader.owner, reader.owner_since, pin, reader.owner_until)
                if owner is None:
                    as_root += 1  # (the pinned release runs the reader as root)
                    if reader.owner_since is None or not pin.lacks(reader.owner_since):
                        continue  # (systemd hands it the file: any owner will do)
                use = _Use(file, line, path, reader, owner)
                for host in sorted(inventory.hosts_at(file, offset)) or [""]:
                    uses.setdefault((name, host), []).append(use)
        if kind == "templates":  # (a program's secrets file, read by its location)
            for name, file, offset, option, reader in rendered_templates(ctx):
                owner = owner_on(reader.owner, reader.owner_since, pin, reader.owner_until)
                checked_as_root = owner is None
                if name not in by_name or checked_as_root:
                    as_root += checked_as_root
                    continue
                line = (ctx.read(file) or b"").count(b"\n", 0, offset) + 1
                use = _Use(file, line, option, reader, owner)
                for host in sorted(inventory.hosts_at(file, offset)) or [""]:
                    uses.setdefault((name, host), []).append(use)
        said: set[tuple[str, str]] = set()
        for (name, host), found in uses.items():
            decls = [
                d
                for d in by_name[name]
                if not host
                or host in inventory.hosts_at(d.file, d.offset)
                or not inventory.hosts_at(d.file, d.offset)
            ]
            if not decls:
                continue  # (another host's name: nix-secret-refs says it)
            checked += any(use.owner is not None for use in found)  # (else: as root)
            for result in _judge(ctx, kind, name, host, decls, found, pin.shown):
                if (result.message, result.fix) not in said:  # (a module of many hosts)
                    said.add((result.message, result.fix))
                    results.append(result)
    results += dynamic_owners(ctx) + home_manager_reads(ctx)
    results += unknown_owners(ctx, "\n".join(r.message for r in results if not r.ok))
    if not results:
        root = f"; {as_root} more read as root on the pinned release" if as_root else ""
        text = (
            f"{checked} secret file(s) handed to options whose reader is known, each "
            f"readable by that user{root}"
            if checked
            else f"{as_root} secret file(s) handed to options whose reader runs as root on "
            "the pinned release: nothing to own"
            if as_root
            else "no secret file is handed to an option whose reader the catalogue knows: "
            "nothing to check"
        )
        if unknown:  # (what this point did not judge, said with the pass)
            text += (
                f" ({unknown} other reference(s) go where the catalogue does not know who "
                "reads them: not judged)"
            )
        results.append(CheckResult(POINT, True, text))
    return results + _world_readable(ctx)


def _world_readable(ctx: CheckContext) -> list[CheckResult]:
    """A warning for each secret or template whose ``mode`` lets every local user read
    it (a private key given ``0644`` so that a service could open it)."""
    from secretkit.gate.module_sites import line_of

    facts = ctx.nix()
    out = []
    for kind, declared in (("secrets", facts.declarations), ("templates", facts.templates)):
        for decl in declared:
            if not decl.others_read() or _PUBLIC.search(decl.name):
                continue  # (a public key kept beside its private one is anyone's)
            at = f"{decl.file}:{line_of(ctx, decl.file, decl.offset)}"
            what = f'sops.{kind}."{decl.name}"'
            out.append(
                CheckResult(
                    POINT,
                    True,
                    f"warning: {at}: {what} sets mode = {decl.mode}; every local user (and "
                    "every service) can read it",
                    f"give it the reader's user as owner (or its group with mode = "
                    f'"0440";) and leave mode out (0400), in {what} ({at})',
                    (decl.file,),
                    warning=True,
                )
            )
    return out


def _judge(
    ctx: CheckContext,
    kind: str,
    name: str,
    host: str,
    decls: list[Declaration],
    uses: list[_Use],
    release: str,
) -> list[CheckResult]:
    """The problems of one name on one host: its declarations merged, held to each
    use's reader (``release``: the pinned one, as said)."""
    from secretkit.gate.module_sites import line_of
    from secretkit.gate.option_values import values_by_host
    from secretkit.nix import emit
    from secretkit.nix.catalogue.base import owner_by_release, owner_where_enabled

    merged = decls[0]
    for decl in decls[1:]:  # (NixOS merges a declaration's fields from every module)
        merged = replace(
            merged,
            owner=merged.owner or decl.owner,
            group=merged.group or decl.group,
            mode=merged.mode or decl.mode,
        )
    where = next((d for d in decls if d.owner is not None), decls[0])
    at = f"{where.file}:{line_of(ctx, where.file, where.offset)}"
    what = f'sops.{kind}."{name}"'
    early = [use for use in uses if use.owner is None]  # (a release before the user)
    uses = [use for use in uses if use.owner is not None]
    out = []
    named = _literal_user(merged.owner) if merged.owner else None
    for use in [u for u in early[:1] if named is not None and named == u.reader.user]:
        reader = use.reader
        since = reader.owner_since or ""
        conditional = owner_by_release(reader.owner or "", since, reader.owner_until)
        out.append(
            CheckResult(
                POINT,
                False,
                f"{at}: {what} sets owner = {merged.owner}; but on {release} "
                f"{_shown(use)} is read as root and NixOS has no {named} user before "
                f"{since}: {MISSING_USER}",
                f"set owner = {conditional}; in {what} ({at}) (right before {since} and "
                "after), or leave owner out while the hosts are older",
                (where.file, use.file),
                group="an owner the pinned release does not have",
            )
        )
    if not uses:
        return out
    before_users = [d for d in decls if d.for_users]
    if before_users and kind == "secrets":
        # installed before users exist, with -ignore-passwd: root:root whatever owner
        # says (Mic92/sops-nix@56b24064, pkgs/sops-install-secrets/main.go validateSecret)
        use = uses[0]
        at_early = (
            f"{before_users[0].file}:{line_of(ctx, before_users[0].file, before_users[0].offset)}"
        )
        keep = f" (keep owner = {use.owner};)" if merged.owner is None else " (keep its owner)"
        out.append(
            CheckResult(
                POINT,
                False,
                f"{at_early}: {what} sets neededForUsers = true, so sops-nix installs it "
                "before users exist and leaves it root's whatever owner says, but "
                f"{_shown(use)} is read by {_who(use.reader)} at run time: the service "
                "cannot open it",
                f"drop neededForUsers = true; from {what} ({at_early}){keep}: only a "
                "password file NixOS reads while it makes users needs it",
                (before_users[0].file, use.file),
                group="a sops file a service reads is installed as root's before users",
            )
        )
        return out
    # (two options naming their users alike, or that the host sets to one user: one)
    readers = {_user_of(ctx, host, use, where.file): use for use in uses}
    if len(readers) > 1 and not merged.others_read():
        first, second = list(readers.values())[:2]
        other = f"{name}-{_who(second.reader, short=True)}"
        fields = f"key = {emit.nix_string(merged.key or name)}; " if kind == "secrets" else ""
        if merged.sops_file_text:
            fields += f"sopsFile = {merged.sops_file_text}; "
        second_decl = (
            f"sops.{kind}.{emit.nix_string(other)} = {{ {fields}owner = {second.owner}; }};"
            if kind == "secrets"
            else f"sops.templates.{emit.nix_string(other)} with the same content and owner "
            f"= {second.owner};"
        )
        out.append(
            CheckResult(
                POINT,
                False,
                f"{at}: {what} is read by two users at run time, {_who(first.reader)} "
                f"({_shown(first)}) and {_who(second.reader)} ({_shown(second)}); one file "
                "has one owner",
                f"declare a second one, {second_decl} (the same value), give "
                f"{_shown_path(second.path)} config.sops.{kind}.{emit.nix_string(other)}.path, "
                f"and keep owner = {first.owner}; on {what}",
                (where.file, first.file),
                group="a sops file read by two services' users",
            )
        )
        return out
    for use in uses[:1] if len(readers) == 1 else []:
        values: set[str | None] = set()
        option = _USER_OPTION.match(use.reader.owner or "")
        if option is not None:
            by_host = values_by_host(ctx, option[0].split(".")[1:], at=where.file)
            values = by_host.get(host, by_host.get("", set()))
        user = next(iter(values), None) if len(values) == 1 else use.reader.owner_default
        user = user if option is not None else _literal_user(use.reader.owner or "")
        if merged.group is not None and user and _in_group(ctx, host, user, merged):
            continue  # (the reader's user is in the file's group, which may read it)
        problem = _problem(merged, use.reader, use.owner or "", values)
        if problem is None:
            out += _user_made_elsewhere(ctx, host, merged, use, at, what, where.file)
            continue
        verdict, said = problem
        who = _who(use.reader)
        on = f" on host {host}" if host and verdict == "fails" and option is not None else ""
        if verdict == "unverified":
            message = (
                f"{at}: cannot verify that {who} can read {what}: its {said}, and "
                f"{_shown(use)} is read by {who} at run time"
            )
        else:
            made = f"{merged.owner.strip(chr(34))}'s" if merged.owner else "root's"
            message = (
                f"{at}: {what} {said}{on}, but {_shown(use)} is read by {who} at run time "
                f"(sops-nix makes the file {made}, mode {(merged.mode or '0400').strip(chr(34))}"
                "): the service cannot open it"
            )
        owner = use.owner or ""
        shared = len(ctx.inventory().hosts_of_file(where.file)) > 1
        if shared and use.reader.user_from is not None:  # (not every host may run it)
            owner = owner_where_enabled(owner, use.reader.user_from)
        verb = f"add owner = {owner}; to" if merged.owner is None else f"set owner = {owner}; in"
        if merged.owner is not None and merged.owner.startswith("inherit"):
            verb = f"take owner out of `{merged.owner}` and write owner = {owner}; in"
        out.append(
            CheckResult(
                POINT,
                False,
                message,
                f"{verb} {what} ({at})",
                (where.file, use.file),
                group=f"a sops file a service reads is not readable by its user ({who})",
            )
        )
    return out


def _user_made_elsewhere(
    ctx: CheckContext,
    host: str,
    decl: Declaration,
    use: _Use,
    at: str,
    what: str,
    declared_in: str,
) -> list[CheckResult]:
    """A host that shares the declaration but does not enable the module that makes
    the owner's user (prometheus' user exists where ``services.prometheus.enable``):
    sops-nix stops installing every secret of a host on an owner it cannot find."""
    from secretkit.gate.option_values import values_by_host
    from secretkit.nix.catalogue.base import owner_where_enabled

    option = use.reader.user_from
    if not host or option is None or decl.owner in (None, '"root"'):
        return []
    if _where_enabled(decl.owner or "", option) is not None:
        return []  # (the user's owner only where the module makes it: root's elsewhere)
    if _USERS_NAME.match(decl.owner or ""):
        return []  # (config.users.users.<u>.name: a host without <u> does not evaluate)
    values = values_by_host(ctx, option.split("."), at=declared_in).get(host, set())
    if "true" in values and values <= {"true"}:
        return []
    fails = values == {"false"}
    said = (
        f"{option} is false there"
        if fails
        else f"{option} is not set true in the files of that host secretkit reads"
    )
    literal = _literal_user(decl.owner or "")
    user = f"the {literal} user" if literal else f"the user {decl.owner} names"
    return [
        CheckResult(
            POINT,
            False,
            f"{at}: {'' if fails else 'cannot verify that '}host {host} has {user}, "
            f"who owns {what}: {said}; where it is missing, {MISSING_USER}",
            f"write owner = {owner_where_enabled(use.owner or decl.owner or '', option)}; "
            f"in {what} ({at}), or set {option} = true; for host {host}",
            (decl.file, use.file),
            group="an owner whose user a host may not have",
        )
    ]


def _problem(
    decl: Declaration, reader: Reader, owner: str, values: set[str | None]
) -> tuple[str, str] | None:
    """None when ``decl`` is readable by ``reader`` (whose owner on the pinned release
    is ``owner``), else ("fails", why) or ("unverified", what could not be compared).
    ``values``: what the host sets the reader's user option to (empty: its default)."""
    from secretkit.nix.catalogue.base import owner_by_release

    if decl.others_read():
        return None
    mode = decl.mode_bits()
    group_reads = decl.group is not None and (mode is None or bool(mode & 0o040))
    if group_reads and mode is not None and _names_users_group(decl.group or "", reader):
        return None  # (the group of the reader's own user, and a mode that lets it read)
    assert reader.owner is not None
    written = decl.owner
    inner = _where_enabled(written or "", reader.user_from)
    if inner is not None:  # (root's where the service is off: no one reads it there)
        written = inner
    option = _USER_OPTION.match(reader.owner)
    root_runs = (values or {reader.owner_default}) == {"root"}
    if option is not None and reader.owner_default is not None and root_runs:
        return None  # (the host runs the reader as root, who reads any file)
    if written is None:
        if group_reads:
            return "unverified", f"group = {decl.group}; may or may not hold {_who(reader)}"
        return "fails", "sets no owner"
    conditional = owner_by_release(reader.owner, reader.owner_since, reader.owner_until)
    if written in (owner, reader.owner, conditional):
        return None
    user = _literal_user(written)
    if user is not None and reader.owner.startswith('"'):
        if user == reader.user:
            return None
        return _or_group(group_reads, decl, reader, f"is owned by {user}")
    if user is not None and option is not None and reader.owner_default is not None:
        # owner = "nginx" for config.services.nginx.user: what the host sets it to
        now = values or {reader.owner_default}
        if None not in now:
            if now == {user}:
                return None
            shown = " or ".join(sorted(v for v in now if v is not None))
            return _or_group(
                group_reads, decl, reader, f"is owned by {user} ({option[0]} is {shown})"
            )
    if written.startswith("inherit"):
        return "unverified", f"owner comes from `{written}`, which this check cannot tell"
    return "unverified", f"owner = {written}; names a user this check cannot tell"


def _or_group(group_reads: bool, decl: Declaration, reader: Reader, why: str) -> tuple[str, str]:
    if group_reads:
        return (
            "unverified",
            f"owner {why.removeprefix('is owned by ')} is not {_who(reader)}, and "
            f"group = {decl.group}; may or may not hold it",
        )
    return "fails", why


def _names_users_group(group: str, reader: Reader) -> bool:
    """Whether ``group`` is the reader's own user's group, as written: for a user
    option (``config.services.nginx.user``), its group option or the default group
    its module gives that user (nginx's: ``users.users.nginx.group = cfg.group``,
    default "nginx")."""
    option = _USER_OPTION.match(reader.owner or "")
    if option is not None:
        own = reader.owner.removesuffix(".user") + ".group" if reader.owner else ""
        return group in (own, f'"{reader.owner_default}"')
    if reader.owner is None or not reader.owner.startswith('"'):
        return False
    found = _USERS_GROUP.match(group)
    named = next((g for g in found.groups() if g), None) if found else _literal_user(group)
    return named == reader.user


def _destinations(ctx: CheckContext, file: str, offset: int) -> list[tuple[str, ...]]:
    """The options the reference at ``offset`` is given to: the one whose value holds
    it, or, for ``let name = config.sops…path;``, each option given ``name`` (a plain
    ``name``, or a ``let … in name`` value)."""
    from secretkit.gate.option_values import innermost, option_bindings
    from secretkit.nix import cst

    tree, bindings = option_bindings(ctx, file)
    held = innermost(bindings, offset)
    if held is None:
        return []
    binding, path = held
    scope = binding.value.parent
    while scope is not None and scope.type not in ("let_expression", "rec_attrset_expression"):
        if scope.type in ("attrset_expression",):
            return [tuple(path)]  # (an option's value, not a let's name)
        scope = scope.parent
    if scope is None or len(binding.attrpath) != 1 or _unwrapped_start(binding) != offset:
        return [tuple(path)]
    name = binding.attrpath[0]
    out = []
    for other, other_path in bindings:
        value = cst.unwrap(other.value)
        if other is binding or value is None:
            continue
        if not (scope.start_byte <= other.start < scope.end_byte) and value.id != scope.id:
            continue
        body = value.child_by_field_name("body") if value.type == "let_expression" else value
        named = body is not None and body.type == "variable_expression"
        if named and str(cst.node_text(tree, body)) == name:
            out.append(tuple(other_path))
    return out


def _unwrapped_start(binding: object) -> int:
    from secretkit.nix import cst

    value = cst.unwrap(binding.value)  # type: ignore[attr-defined]
    return int(value.start_byte) if value is not None else -1


def _where_enabled(text: str, option: str | None) -> str | None:
    """The owner a conditional ``owner`` gives where ``config.<option>`` holds, when it
    is root's (or unset) elsewhere: ``(if config.<option> then X else "root")`` with or
    without the parentheses, ``lib.mkIf config.<option> X`` (unset: sops-nix's root);
    else None."""
    if option is None:
        return None
    cond = r"\(?\s*config\." + re.escape(option) + r"\s*\)?"
    bare = text.strip()
    while bare.startswith("(") and bare.endswith(")"):
        bare = bare[1:-1].strip()
    found = re.fullmatch(r"if\s+" + cond + r"\s+then\s+(.+?)\s+else\s+\"root\"", bare, re.S)
    found = found or re.fullmatch(r"(?:lib\.)?mkIf\s+" + cond + r"\s+(.+)", bare, re.S)
    return found[1].strip() if found else None


def _user_of(ctx: CheckContext, host: str, use: _Use, at: str) -> str | None:
    """The user ``use``'s reader runs as on ``host``: a plain name, or what the host sets
    its user option to (its default where unset); else the owner as written."""
    from secretkit.gate.option_values import values_by_host

    owner = use.reader.owner or ""
    if _USER_OPTION.match(owner) is None:
        return _literal_user(owner) or owner
    by_host = values_by_host(ctx, owner.split(".")[1:], at=at)
    values = by_host.get(host, by_host.get("", set())) or {use.reader.owner_default}
    return next(iter(values)) if len(values) == 1 and None not in values else owner


def _in_group(ctx: CheckContext, host: str, user: str, decl: Declaration) -> bool:
    """Whether the host puts ``user`` in the declaration's group (``users.users.<user>
    .extraGroups = [ "<group>" ]``, as written) and its mode lets that group read."""
    from secretkit.gate.option_values import option_bindings
    from secretkit.nix import cst

    mode = decl.mode_bits()
    group = (decl.group or "").strip('"')
    if mode is None or not mode & 0o040 or not group:
        return False
    inventory = ctx.inventory()
    for file in ctx.files():
        data = ctx.read(file) if file.endswith(".nix") else None
        if data is None or b"extraGroups" not in data or group.encode() not in data:
            continue
        tree, bindings = option_bindings(ctx, file)
        for binding, path in bindings:
            if path != ["users", "users", user, "extraGroups"]:
                continue
            value = cst.unwrap(binding.value)
            listed = value is not None and value.type == "list_expression"
            items = [cst.string_value(tree, c) for c in value.named_children] if listed else []
            if group in items and (not host or host in inventory.hosts_at(file, binding.start)):
                return True
    return False


def _literal_user(text: str) -> str | None:
    """The user an ``owner`` names when it is a plain string, or
    ``config.users.users.<u>.name``; else None."""
    if text.startswith('"') and text.endswith('"') and "${" not in text and "\\" not in text:
        return text[1:-1]
    found = _USERS_NAME.match(text)
    return (found[1] or found[2]) if found else None


def _who(reader: Reader, short: bool = False) -> str:
    if reader.owner is not None and reader.owner.startswith('"'):
        return reader.user if short else f"the {reader.user} user"
    if short:
        return (reader.owner or "root").split(".")[-2]
    return f"the user {reader.owner} names"


def _shown_path(path: tuple[str, ...]) -> str:
    from secretkit.nix import emit

    return ".".join(p if p.startswith("[") else emit.attr(p) for p in path)


def _shown(use: _Use) -> str:
    return f"{_shown_path(use.path)} ({use.file}:{use.line})"
