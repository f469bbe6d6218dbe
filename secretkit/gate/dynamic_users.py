"""``service-readable``: an owner that is a service's ``DynamicUser``.

A unit with ``DynamicUser = true`` gets a user systemd makes while it runs; no
``/etc/passwd`` entry exists, so sops-nix cannot look the owner up and stops installing
every secret of the host.  Such a service opens a secret file only as root hands it
over: systemd's ``EnvironmentFile`` or ``LoadCredential`` (both read as root)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from secretkit.gate.model import CheckResult
from secretkit.nix.catalogue.base import NIXPKGS, Source

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext
    from secretkit.nix.sops_refs import Declaration

POINT = "service-readable"
# what an owner a host lacks does (Mic92/sops-nix@56b24064 modules/sops/default.nix:
# group's default is users.${owner}.group; sops-install-secrets looks the owner up)
MISSING_USER = (
    "the host does not evaluate (sops-nix's group default reads users.<owner>.group) "
    "or, with a group set, sops-nix stops installing its secrets"
)
# the user name people write -> (the service, its unit, where NixOS says DynamicUser)
DYNAMIC = {
    "alertmanager": (
        "services.prometheus.alertmanager",
        "alertmanager",
        Source(
            NIXPKGS,
            "01f31c2ee7d045a337dff0f858c0ed61dd0f4ddb",
            "nixos/modules/services/monitoring/prometheus/alertmanager.nix",
            "serviceConfig = { … DynamicUser = true; # implies PrivateTmp",
        ),
    ),
}


def dynamic_owners(ctx: CheckContext) -> list[CheckResult]:
    from secretkit.gate.module_sites import line_of

    facts = ctx.nix()
    out = []
    for kind, declared in (("secrets", facts.declarations), ("templates", facts.templates)):
        for decl in declared:
            for field in ("owner", "group"):
                value = getattr(decl, field)
                named = value.strip('"') if value and value.startswith('"') else None
                if named not in DYNAMIC:
                    continue
                service, unit, _source = DYNAMIC[named]
                at = f"{decl.file}:{line_of(ctx, decl.file, decl.offset)}"
                what = f'sops.{kind}."{decl.name}"'
                out.append(
                    CheckResult(
                        POINT,
                        False,
                        f"{at}: {what} sets {field} = {value}; but {service} runs with "
                        f"DynamicUser: no {named} user or group exists outside the running "
                        f"unit: {MISSING_USER}",
                        f"take {field} out of {what} ({at}) and hand the file over as root "
                        f"does: systemd.services.{unit}.serviceConfig.LoadCredential = "
                        f'[ "<id>:${{config.sops.{kind}."{decl.name}".path}}" ]; with '
                        f"/run/credentials/{unit}.service/<id> where the file is named",
                        (decl.file,),
                    )
                )
    return out


# users NixOS itself or a module named otherwise makes (an owner people write without
# a users.users.<u> of their own): not judged
_SYSTEM_USERS = frozenset(
    {
        "root", "nobody", "nixbld", "messagebus", "sshd", "acme", "postgres", "mysql",
        "redis", "hass", "wpa_supplicant", "systemd-network", "systemd-resolve",
        "systemd-timesync", "systemd-journal-remote", "systemd-oom", "polkituser",
        "nscd", "rtkit", "avahi", "geoclue", "pulse", "colord", "dhcpcd", "chrony", "ntp",
        "turnserver", "named", "plexpy",  # (services.coturn, services.bind, tautulli)
    }
)  # fmt: skip


def _makes(name: str) -> re.Pattern[bytes]:
    """Where a Nix file may make user (or group) ``name``."""
    word = re.escape(name.encode())
    return re.compile(
        rb"(?:users|groups)\.(?:\"" + word + rb"\"|" + word + rb")(?![\w'-])"
        rb"|(?<![\w'.-])(?:\"" + word + rb"\"|" + word + rb")\s*=\s*\{"
        rb"|services\." + word + rb"(?![\w'-])"
        rb"|(?<![\w-])(?:user|group)\s*=\s*\"" + word + rb"\""
    )


# users NixOS modules name after an instance: (prefix, suffix, the option holding them)
_INSTANCES = (
    ("redis-", "", b"servers"),  # services.redis.servers.<n>: redis-<n>
    ("authelia-", "", b"instances"),  # services.authelia.instances.<n>: authelia-<n>
    ("nebula-", "", b"networks"),  # services.nebula.networks.<n>: nebula-<n>
    ("", "-exporter", b"exporters"),  # services.prometheus.exporters.<n>: <n>-exporter
)


def _instance_user(name: str, text: bytes) -> bool:
    """Whether ``text`` may make ``name`` as the user of a module's instance."""
    for prefix, suffix, holder in _INSTANCES:
        if not (name.startswith(prefix) and name.endswith(suffix)) or holder not in text:
            continue
        instance = re.escape(name[len(prefix) : len(name) - len(suffix)].encode())
        spelled = rb"(?:\"" + instance + rb"\"|" + instance + rb")"
        found = re.search(
            rb"\." + spelled + rb"(?![\w'-])|(?<![\w'.-])" + spelled + rb"\s*=\s*\{", text
        )
        if found is not None:
            return True
    return False


def _made_in(pattern: re.Pattern[bytes], text: bytes) -> bool:
    """Whether ``pattern`` matches outside a ``#`` comment of ``text``."""
    for m in pattern.finditer(text):
        if b"#" not in text[text.rfind(b"\n", 0, m.start()) + 1 : m.start()]:
            return True
    return False


def _enabled_on_hosts(
    ctx: CheckContext, kind: str, decl: Declaration, user: str, option: str, said: str
) -> list[CheckResult]:
    """A catalogue user (grafana) owning a declaration on a host that does not enable
    the module making it (``option``), when no reference the point judged said so."""
    from secretkit.gate.module_sites import line_of
    from secretkit.gate.option_values import values_by_host
    from secretkit.nix.catalogue.base import owner_where_enabled

    at = f"{decl.file}:{line_of(ctx, decl.file, decl.offset)}"
    what = f'sops.{kind}."{decl.name}"'
    if what in said and at in said:
        return []
    by_host = values_by_host(ctx, option.split("."), at=decl.file)
    hosts = sorted(h for h in ctx.inventory().hosts_at(decl.file, decl.offset) if h)
    made = _users_declared_on(ctx, user)  # (users.users.grafana for podman.user: helper-123)
    lacking = [
        h
        for h in hosts
        if not ("true" in by_host.get(h, set()) and by_host[h] <= {"true"}) and h not in made
    ]
    if not lacking:
        return []
    return [
        CheckResult(
            POINT,
            False,
            f'cannot verify: {at}: {what} sets owner = "{user}"; but '
            f"{option} is not set true for host(s) {', '.join(lacking)} in the files "
            f"secretkit reads; where the user is missing, {MISSING_USER}",
            f"write owner = {owner_where_enabled(chr(34) + user + chr(34), option)}; in {what} "
            f"({at}), or set {option} = true; for those hosts",
            (decl.file,),
        )
    ]


_CONDITION = re.compile(r"(?:^|[.\s(])(?:mkIf|optionalAttrs)(?:\s|$)")


def _users_declared_on(ctx: CheckContext, user: str) -> set[str]:
    """The hosts whose modules declare ``users.users.<user>`` themselves (unconditionally:
    not under a ``mkIf``, which the binding's path does not show)."""
    from secretkit.gate.option_values import option_bindings

    hosts: set[str] = set()
    needle = user.encode()
    for file in ctx.files():
        data = ctx.read(file) if file.endswith(".nix") else None
        if data is None or needle not in data or b"users" not in data:
            continue
        tree, bindings = option_bindings(ctx, file)
        for binding, path in bindings:
            if path[:3] == ["users", "users", user] and not _conditional(tree, binding):
                hosts |= ctx.inventory().hosts_at(file, binding.start)
    return hosts


def _conditional(tree: Any, binding: Any) -> bool:
    """Whether a ``mkIf`` (or ``optionalAttrs``) holds ``binding``."""
    from secretkit.nix import cst

    node = binding.value.parent if binding.value is not None else None
    while node is not None:
        if node.type == "apply_expression":
            function = node.child_by_field_name("function")
            text = str(cst.node_text(tree, function)) if function is not None else ""
            if _CONDITION.search(text):
                return True
        node = node.parent
    return False


def unknown_owners(ctx: CheckContext, said: str = "") -> list[CheckResult]:
    """An ``owner`` (or ``group``) no line of the repository's Nix files may make: no
    ``users.users.<u>`` (nor an attribute ``<u> = { … }``), no ``services.<u>``, no
    module's ``user = "<u>"``, and not a user NixOS or a catalogue reader makes
    (``serviceConfig.User = "<u>"`` makes none).  sops-nix stops installing every
    secret of a host on an owner it cannot find; a name that appears nowhere else is
    most likely a user no module makes (or a typo).  ``said``: the messages of the
    point's failures so far (a declaration judged there already is not again)."""
    from secretkit.gate.module_sites import line_of
    from secretkit.nix.catalogue import CATALOGUE

    known = set(_SYSTEM_USERS) | set(DYNAMIC)
    enabled_by: dict[str, str] = {}  # a catalogue user -> the option that makes it
    for key in CATALOGUE:
        reader = getattr(CATALOGUE[key], "reader", None)
        if reader is not None and reader.owner is not None and reader.owner.startswith('"'):
            known.add(reader.user)
            if reader.user_from is not None:
                enabled_by[reader.user] = reader.user_from
        if reader is not None and reader.owner_default is not None:
            known.add(reader.owner_default)  # (nginx for config.services.nginx.user)
    facts = ctx.nix()
    texts = [ctx.read(f) or b"" for f in ctx.files() if f.endswith(".nix")]
    out = []
    for kind, declared in (("secrets", facts.declarations), ("templates", facts.templates)):
        for decl in declared:
            for field in ("owner", "group"):
                value = getattr(decl, field)
                if not value or not value.startswith('"') or "$" in value:
                    continue
                named = value.strip('"')
                if named in enabled_by and field == "owner":
                    out += _enabled_on_hosts(ctx, kind, decl, named, enabled_by[named], said)
                    continue
                if named in known:
                    continue
                if any(_made_in(_makes(named), text) for text in texts):
                    continue  # (a user some module may make)
                if any(_instance_user(named, text) for text in texts):
                    continue  # (redis-<name>, <name>-exporter …: a module's instance)
                at = f"{decl.file}:{line_of(ctx, decl.file, decl.offset)}"
                what = f'sops.{kind}."{decl.name}"'
                if what in said and at in said:
                    continue  # (its owner failed already, with the owner to write)
                made = "users.users" if field == "owner" else "users.groups"
                out.append(
                    CheckResult(
                        POINT,
                        False,
                        f"cannot verify: {at}: {what} sets {field} = {value}; but no file "
                        f"secretkit reads makes {made}.{named} or names it otherwise; "
                        f"where it is missing, {MISSING_USER}",
                        f"give {field} the user of the program that reads the file (a "
                        f"service's own, as its module names it), or declare {made}.{named} "
                        "in a module of the host (a system user: isSystemUser = true; group "
                        "= …;)",
                        (decl.file,),
                    )
                )
    return out
