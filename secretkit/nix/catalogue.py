"""The option catalogue: how a hardcoded secret in a NixOS option becomes a sops-nix reference.

One entry per option family (``research/nixos-secret-options.md``).  An entry
says which attribute paths it covers, proposes a readable secret name and turns
one :class:`Site` (a string literal holding a secret, located on the tree) into
a :class:`Rewrite` — span edits in that module, the value to store, the
``sops.secrets`` attributes (owner, restartUnits, …), options to set and
template lines — or a :class:`Refusal` with the reason.  Entries never write
anything and never guess: whatever they cannot rewrite safely is refused.

The registry is the literal dict :data:`CATALOGUE`; ``lookup`` tries entries in
order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from secretkit.nix import emit
from secretkit.nix.edits import Edit
from secretkit.nix.emit import Node, Tree
from secretkit.plan.crypt import is_crypt_hash, sha512_crypt
from secretkit.sensitive import Sensitive

# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """A string literal holding a secret, on the tree of its module."""

    tree: Tree
    top: Node  # the attrset the module returns
    string: Node  # the string_expression / indented_string_expression
    path: tuple[str, ...]  # full attribute path of the literal (list items as "[i]")
    literal: str  # the literal's value, escapes resolved
    secret: Sensitive[str]  # the secret the scanner found (part of ``literal`` or all of it)
    holder: Node | None = None  # the option's whole value when the literal is wrapped
    #                            (``pkgs.writeText "name" "<secret>"``); None: the literal

    @property
    def binding(self) -> Node | None:
        parent = self.string.parent
        while parent is not None and parent.type == "parenthesized_expression":
            parent = parent.parent
        return parent if parent is not None and parent.type == "binding" else None

    def sibling_string(self, depth: int, name: str) -> str | None:
        """The plain string value of ``name`` in the attrset ``depth`` levels above."""
        prefix = list(self.path[: len(self.path) - depth])
        binding = emit.find_option(self.tree, self.top, [*prefix, name])
        if binding is None:
            return None
        value = emit.unwrap(binding.child_by_field_name("expression"))
        if value is None or value.type != "string_expression":
            return None
        if any(c.type == "interpolation" for c in value.named_children):
            return None
        return emit._unquote(emit.text_of(self.tree, value))

    def has_option(self, path: Sequence[str]) -> bool:
        return emit.find_option(self.tree, self.top, list(path)) is not None


@dataclass(frozen=True)
class OptionSpec:
    """An option the rewrite needs set in the same module."""

    path: tuple[str, ...]
    expr: str
    required: bool  # True: an existing different value is a conflict; False: keep the user's


@dataclass(frozen=True)
class TemplateLine:
    """A line of a ``sops.templates`` file, and the option that points at the template."""

    template: str
    line: str
    option: tuple[str, ...]
    owner: str | None = None
    restart_units: tuple[str, ...] = ()
    path: str | None = None
    mode: str | None = None
    list_option: bool = False  # the option takes a list of files
    include: bool = False  # the option is nix.conf text: `!include <path>`


@dataclass
class Rewrite:
    value: Sensitive[str]  # what goes into the sops file
    edits: list[Edit]
    new_option: str  # for the plan table, e.g. "authorization.credentials_file"
    owner: str | None = None
    group: str | None = None
    mode: str | None = None
    restart_units: tuple[str, ...] = ()
    needed_for_users: bool = False
    path: str | None = None
    options: list[OptionSpec] = field(default_factory=list)
    template: TemplateLine | None = None
    defines: list[tuple[str, ...]] = field(default_factory=list)  # option paths made by the edits


@dataclass(frozen=True)
class Refusal:
    reason: str


class Entry(Protocol):
    key: str
    description: str

    def matches(self, path: Sequence[str]) -> bool: ...

    def name(self, site: Site) -> str: ...

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal: ...


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def match(pattern: str, path: Sequence[str]) -> bool:
    """``pattern`` is dot-separated; ``*`` is one segment, ``[]`` one list index,
    ``a|b`` alternatives, ``**`` any number (≥ 1) of segments at the end."""
    parts = pattern.split(".")
    for i, part in enumerate(parts):
        if part == "**":
            return len(path) > i
        if i >= len(path):
            return False
        seg = path[i]
        if part == "*":
            if seg.startswith("["):
                return False
            continue
        if part == "[]":
            if not (seg.startswith("[") and seg.endswith("]")):
                return False
            continue
        if seg not in part.split("|"):
            return False
    return len(parts) == len(path)


def slug(text: str) -> str:
    """A name part: lower case, ``[a-z0-9._-]`` only."""
    out = re.sub(r"[^A-Za-z0-9._-]+", "-", text.strip()).strip("-.")
    return out.lower() or "x"


def env_var(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper()


# Values that survive an env file (systemd EnvironmentFile), envsubst into JSON,
# and a ``name=value`` wpa_supplicant secrets file unchanged.
_ENV_SAFE = re.compile(r"^[A-Za-z0-9._~+/=:@%,!?*#^&()\[\]{}|<>;-]+$")


def env_safe(value: Sensitive[str]) -> bool:
    return bool(_ENV_SAFE.match(value.reveal()))


def replace_literal(site: Site, text: str) -> Edit:
    return Edit(site.string.start_byte, site.string.end_byte, text)


def rebind(site: Site, new_last: str, expr: str) -> list[Edit] | Refusal:
    """Rename the last attribute of the literal's binding and give it ``expr``."""
    binding = site.binding
    if binding is None:
        return Refusal("the secret is not the whole value of an attribute")
    attrpath = binding.child_by_field_name("attrpath")
    last = attrpath.named_children[-1]
    return [
        Edit(last.start_byte, last.end_byte, emit.attr(new_last)),
        replace_literal(site, expr),
    ]


def delete_node(tree: Tree, node: Node) -> Edit:
    """Remove ``node`` (a binding or a list element).

    A node alone on its line goes with the whole line (and a trailing comment on
    it); otherwise only the node and the blanks in front of it.
    """
    source = tree.source
    line_start = source.rfind(b"\n", 0, node.start_byte) + 1
    line_end = source.find(b"\n", node.end_byte)
    line_end = len(source) if line_end < 0 else line_end
    rest = source[node.end_byte : line_end].strip()
    alone = not source[line_start : node.start_byte].strip()
    if alone and line_start > 0 and (not rest or rest.startswith(b"#")):
        return Edit(line_start - 1, line_end, "")
    start = node.start_byte
    while start > 0 and source[start - 1 : start] in (b" ", b"\t"):
        start -= 1
    return Edit(start, node.end_byte, "")


# ---------------------------------------------------------------------------
# Entries
# ---------------------------------------------------------------------------


class Alertmanager:
    key = "alertmanager-receiver"
    description = (
        "Alertmanager receiver secrets (Pushover token/user_key, smtp_auth_password, …) "
        "→ $VAR + environmentFile from a sops template (the unit uses DynamicUser)"
    )
    _pattern = "services.prometheus.alertmanager.configuration.receivers.[].*.[].**"

    def matches(self, path: Sequence[str]) -> bool:
        return match(self._pattern, path) and path[6].endswith("_configs")

    def name(self, site: Site) -> str:
        kind = site.path[6].removesuffix("_configs")
        receiver = site.sibling_string(len(site.path) - 6, "name")
        who = kind if receiver in (None, kind) else slug(receiver or kind)
        field_name = "/".join(slug(p) for p in site.path[8:] if not p.startswith("["))
        return f"alertmanager/{who}/{field_name}"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        if not env_safe(site.secret):
            return Refusal("the value has characters an environment file cannot carry")
        var = env_var(name.removeprefix("alertmanager/"))
        return Rewrite(
            value=site.secret,
            edits=[replace_literal(site, emit.nix_string("$" + var))],
            new_option=f"{site.path[-1]} = ${var} (environmentFile)",
            template=TemplateLine(
                template="alertmanager.env",
                line=f"{var}={emit.placeholder(name)}",
                option=("services", "prometheus", "alertmanager", "environmentFile"),
                restart_units=("alertmanager.service",),
            ),
        )


class PrometheusCredentials:
    key = "prometheus-credentials"
    description = (
        "Prometheus scrape/remote credentials → *_file options "
        "(owner prometheus, checkConfig = syntax-only)"
    )
    _fields: ClassVar[dict[tuple[str, ...], str]] = {
        ("authorization", "credentials"): "credentials_file",
        ("basic_auth", "password"): "password_file",
        ("oauth2", "client_secret"): "client_secret_file",
        ("bearer_token",): "bearer_token_file",
    }
    _head = "services.prometheus.scrapeConfigs|remoteWrite|remoteRead.[]"

    def _field(self, path: Sequence[str]) -> tuple[str, ...] | None:
        if not match(self._head + ".**", path):
            return None
        tail = tuple(path[4:])
        return tail if tail in self._fields else None

    def matches(self, path: Sequence[str]) -> bool:
        return self._field(path) is not None

    def name(self, site: Site) -> str:
        depth = len(site.path) - 4
        job = site.sibling_string(depth, "job_name") or site.sibling_string(depth, "name")
        who = slug(job) if job else f"{slug(site.path[2])}-{site.path[3].strip('[]')}"
        return f"prometheus/{who}/{slug(site.path[-1]).replace('_', '-')}"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        tail = self._field(site.path)
        assert tail is not None  # matches() was checked by lookup
        new = self._fields[tail]
        sibling = (*site.path[:-1], new)
        if site.has_option(sibling):
            return Refusal(f"{'.'.join(sibling[4:])} is already set")
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        edits = rebind(site, new, emit.secret_ref(name))
        if isinstance(edits, Refusal):
            return edits
        return Rewrite(
            value=site.secret,
            edits=edits,
            new_option=".".join((*tail[:-1], new)),
            owner='"prometheus"',
            restart_units=("prometheus.service",),
            options=[OptionSpec(("services", "prometheus", "checkConfig"), '"syntax-only"', False)],
            defines=[sibling],
        )


class Borgbackup:
    key = "borgbackup-passphrase"
    description = 'borg encryption.passphrase / passCommand = "echo …" → passCommand = "cat …"'
    _echo = re.compile(r"""^\s*echo\s+(?:-n\s+)?(['"]?)(.+?)\1\s*$""", re.S)

    def matches(self, path: Sequence[str]) -> bool:
        return match("services.borgbackup.jobs.*.encryption.passphrase|passCommand", path)

    def name(self, site: Site) -> str:
        return f"borg/{slug(site.path[3])}/passphrase"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        command = emit.nix_string("cat ")[:-1] + "${" + emit.secret_ref(name) + '}"'
        owner_name = site.sibling_string(2, "user")
        owner = emit.nix_string(owner_name) if owner_name else None
        if site.path[-1] == "passphrase":
            if site.literal != site.secret.reveal():
                return Refusal("the secret is only part of the string")
            sibling = (*site.path[:-1], "passCommand")
            if site.has_option(sibling):
                return Refusal("encryption.passCommand is set as well")
            edits = rebind(site, "passCommand", command)
            if isinstance(edits, Refusal):
                return edits
            return Rewrite(
                site.secret, edits, "encryption.passCommand", owner=owner, defines=[sibling]
            )
        found = self._echo.match(site.literal)
        if not found or "$" in found[2] or "`" in found[2]:
            return Refusal("passCommand is not a plain `echo <passphrase>`")
        return Rewrite(
            Sensitive(found[2]),
            [replace_literal(site, command)],
            "encryption.passCommand",
            owner=owner,
        )


class Grafana:
    key = "grafana-file-provider"
    description = 'Grafana settings and provisioning secrets → "$__file{…}" (owner grafana)'

    def matches(self, path: Sequence[str]) -> bool:
        return match("services.grafana.settings.*.*", path) or match(
            "services.grafana.provision.datasources.settings.datasources.[].secureJsonData.*", path
        )

    def name(self, site: Site) -> str:
        if site.path[2] == "settings":
            return f"grafana/{slug(site.path[3])}/{slug(site.path[4])}"
        ds = site.sibling_string(2, "name") or site.path[6].strip("[]")
        return f"grafana/datasources/{slug(ds)}/{slug(site.path[-1])}"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        text = '"$__file{${' + emit.secret_ref(name) + '}}"'
        return Rewrite(
            site.secret,
            [replace_literal(site, text)],
            f"{'.'.join(site.path[2:])} = $__file{{…}}",
            owner='"grafana"',
            restart_units=("grafana.service",),
        )


class UserPassword:
    key = "user-password"
    description = "users.users.<n>.(initial)(hashed)password → hashedPasswordFile (a $6$ hash)"

    def matches(self, path: Sequence[str]) -> bool:
        return match(
            "users.users.*.password|initialPassword|hashedPassword|initialHashedPassword", path
        )

    def name(self, site: Site) -> str:
        return f"users/{slug(site.path[2])}/hashed-password"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        user = site.path[:3]
        for other in ("hashedPasswordFile", "passwordFile"):
            if site.has_option((*user, other)):
                return Refusal(f"users.users.{site.path[2]}.{other} is set as well")
        clear = site.secret.reveal()
        hashed = clear if is_crypt_hash(clear) else sha512_crypt(clear)
        edits = rebind(site, "hashedPasswordFile", emit.secret_ref(name))
        if isinstance(edits, Refusal):
            return edits
        return Rewrite(
            Sensitive(hashed),
            edits,
            "hashedPasswordFile",
            needed_for_users=True,
            defines=[(*user, "hashedPasswordFile")],
        )


def _ext_part(network: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", network).strip("_").lower()


def _unique(site: Site, shorten: Callable[[str], str], sep: str) -> str:
    """``shorten(network)``, with a short hash of the network's own name appended when
    another network of the module shortens to the same text ("Home" and "home",
    "my-net" and "my net"): each PSK keeps its own ``ext:`` name and secret."""
    import hashlib
    from typing import cast

    from secretkit.nix import cst

    network = site.path[3]
    short = shorten(network)
    prefix = ["networking", "wireless", "networks"]
    tree = cast(cst.NixTree, site.tree)
    names = {
        b.full_path[3]
        for b in cst.bindings(tree)
        if b.full_path[:3] == prefix and len(b.full_path) > 3
    }
    if any(other != network and shorten(other) == short for other in names):
        digest = hashlib.sha256(network.encode("utf-8", "surrogateescape")).hexdigest()[:8]
        return f"{short}{sep}{digest}"
    return short


class Wireless:
    key = "wireless-psk"
    description = 'wifi psk/pskRaw → pskRaw = "ext:…" + networking.wireless.secretsFile'

    def matches(self, path: Sequence[str]) -> bool:
        return match("networking.wireless.networks.*.psk|pskRaw", path)

    def name(self, site: Site) -> str:
        return f"wifi/{_unique(site, slug, '-')}/psk"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        if "\n" in site.secret.reveal():
            return Refusal("the value spans several lines")
        ext = "psk_" + _unique(site, _ext_part, "_")
        network = site.path[:4]
        if site.path[-1] == "psk" and site.has_option((*network, "pskRaw")):
            return Refusal("pskRaw is set as well")
        edits = rebind(site, "pskRaw", emit.nix_string(f"ext:{ext}"))
        if isinstance(edits, Refusal):
            return edits
        return Rewrite(
            site.secret,
            edits,
            f'pskRaw = "ext:{ext}" (secretsFile)',
            template=TemplateLine(
                template="wireless-secrets",
                line=f"{ext}={emit.placeholder(name)}",
                option=("networking", "wireless", "secretsFile"),
            ),
            defines=[(*network, "pskRaw")] if site.path[-1] == "psk" else [],
        )


class Wireguard:
    key = "wireguard-keys"
    description = "WireGuard privateKey / presharedKey → privateKeyFile / presharedKeyFile"

    def matches(self, path: Sequence[str]) -> bool:
        return match("networking.wireguard|wg-quick.interfaces.*.privateKey", path) or match(
            "networking.wireguard|wg-quick.interfaces.*.peers.[].presharedKey", path
        )

    def name(self, site: Site) -> str:
        iface = slug(site.path[3])
        if site.path[-1] == "privateKey":
            return f"wireguard/{iface}/private-key"
        peer = site.sibling_string(1, "name") or f"peer-{site.path[5].strip('[]')}"
        return f"wireguard/{iface}/{slug(peer)}/preshared-key"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        new = site.path[-1] + "File"
        sibling = (*site.path[:-1], new)
        if site.has_option(sibling):
            return Refusal(f"{new} is set as well")
        edits = rebind(site, new, emit.secret_ref(name))
        if isinstance(edits, Refusal):
            return edits
        unit = f"wireguard-{site.path[3]}.service" if site.path[1] == "wireguard" else None
        return Rewrite(
            site.secret,
            edits,
            new,
            restart_units=(unit,) if unit else (),
            defines=[sibling],
        )


class Tailscale:
    key = "tailscale-authkey"
    description = "tailscale --authkey=… in extraUpFlags → services.tailscale.authKeyFile"
    _flag = re.compile(r"^--auth-?key(?:=(.*))?$", re.S)

    def matches(self, path: Sequence[str]) -> bool:
        return match("services.tailscale.extraUpFlags.[]", path)

    def name(self, site: Site) -> str:
        return "tailscale/authkey"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        option = ("services", "tailscale", "authKeyFile")
        flag = self._flag.match(site.literal)
        doomed = [site.string]
        if flag and flag[1] is not None:
            value = flag[1]
        elif flag is None and site.literal == site.secret.reveal():
            before = site.string.prev_named_sibling
            text = emit._unquote(emit.text_of(site.tree, before)) if before is not None else ""
            if before is None or before.type != "string_expression" or not self._flag.match(text):
                return Refusal("the auth key is not the value of a tailscale auth-key flag")
            doomed.insert(0, before)
            value = site.literal
        else:
            return Refusal("the auth key is not the value of a tailscale auth-key flag")
        return Rewrite(
            Sensitive(value),
            [delete_node(site.tree, node) for node in doomed],
            "services.tailscale.authKeyFile",
            restart_units=("tailscaled-autoconnect.service",),
            options=[OptionSpec(option, emit.secret_ref(name), True)],
            defines=[option],
        )


@dataclass(frozen=True)
class _FileOption:
    pattern: str
    new: str  # the new last attribute (or a full option path when ``moved``)
    owner: str | None = None
    unit: str | None = None
    moved: bool = False  # True: delete the binding, set the option ``new`` elsewhere


class FileOptions:
    key = "file-options"
    description = (
        "services with a plain *File sibling: ddclient, k3s, nextcloud, cloudflare-dyndns, "
        "github-runners, mosquitto, syncthing gui password, …"
    )
    table: tuple[_FileOption, ...] = (
        _FileOption("services.ddclient.password", "passwordFile", None, "ddclient.service"),
        _FileOption("services.k3s.token", "tokenFile", None, "k3s.service"),
        _FileOption("services.k3s.agentToken", "agentTokenFile", None, "k3s.service"),
        _FileOption("services.nextcloud.config.adminpass", "adminpassFile", '"nextcloud"'),
        _FileOption("services.nextcloud.config.dbpass", "dbpassFile", '"nextcloud"'),
        _FileOption("services.cloudflare-dyndns.apiToken", "apiTokenFile"),
        _FileOption("services.github-runners.*.token", "tokenFile"),
        _FileOption("services.mosquitto.listeners.[].users.*.password", "passwordFile"),
        _FileOption("services.mosquitto.listeners.[].users.*.hashedPassword", "hashedPasswordFile"),
        _FileOption("services.miniflux.adminCredentials", "adminCredentialsFile"),
        _FileOption(
            "services.syncthing.settings.gui.password",
            "services.syncthing.guiPasswordFile",
            "config.services.syncthing.user",
            "syncthing.service",
            moved=True,
        ),
    )

    def _row(self, path: Sequence[str]) -> _FileOption | None:
        return next((row for row in self.table if match(row.pattern, path)), None)

    def matches(self, path: Sequence[str]) -> bool:
        return self._row(path) is not None

    def name(self, site: Site) -> str:
        head = site.path[1] if site.path[0] == "services" else site.path[0]
        middle = [slug(p) for p in site.path[2:-1] if not p.startswith("[")]
        middle = [m for m in middle if m not in ("config", "settings", "listeners", "users")]
        return "/".join([slug(head), *middle, slug(site.path[-1])])

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        row = self._row(site.path)
        assert row is not None
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        units = (row.unit,) if row.unit else ()
        if row.moved:
            target = tuple(row.new.split("."))
            binding = site.binding
            if binding is None or len(emit.binding_names(site.tree, binding) or []) != 1:
                return Refusal("the option is not a plain attribute of its attrset")
            return Rewrite(
                site.secret,
                [delete_node(site.tree, binding)],
                row.new,
                owner=row.owner,
                restart_units=units,
                options=[OptionSpec(target, emit.secret_ref(name), True)],
                defines=[target],
            )
        sibling = (*site.path[:-1], row.new)
        if site.has_option(sibling):
            return Refusal(f"{row.new} is set as well")
        edits = rebind(site, row.new, emit.secret_ref(name))
        if isinstance(edits, Refusal):
            return edits
        return Rewrite(
            site.secret, edits, row.new, owner=row.owner, restart_units=units, defines=[sibling]
        )


class EtcFile:
    key = "environment-etc"
    description = 'environment.etc."x".text holding a secret → a sops secret/template at /etc/x'

    def matches(self, path: Sequence[str]) -> bool:
        return match("environment.etc.*.text", path)

    def name(self, site: Site) -> str:
        return "etc/" + "/".join(slug(p) for p in site.path[2].split("/"))

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if any(c.type == "interpolation" for c in site.string.named_children):
            return Refusal("the file text has interpolations")
        binding = site.binding
        if binding is None:
            return Refusal("the text is not the value of an attribute")
        entry = site.path[:3]
        names = emit.binding_names(site.tree, binding) or []
        doomed = binding
        mode: str | None = None
        if len(names) == 1:  # `"x" = { text = …; }` or `etc."x" = { … }`: the whole entry goes
            holder = binding.parent.parent  # binding_set → attrset
            owner_binding = holder.parent if holder is not None else None
            if owner_binding is None or owner_binding.type != "binding":
                return Refusal("the /etc entry is not a plain attrset")
            others = {n[0] for n, _ in emit.iter_bindings(site.tree, holder) if len(n) == 1}
            others -= {"text"}
            if others - {"mode"}:
                return Refusal(f"the /etc entry also sets {', '.join(sorted(others))}")
            if "mode" in others:
                mode = site.sibling_string(1, "mode")
                if mode is None:
                    return Refusal("the /etc entry's mode is not a plain string")
            doomed = owner_binding
        for full, node in emit.iter_bindings(site.tree, site.top):
            if full[:3] == list(entry) and len(full) > 3 and not _inside(node, doomed):
                return Refusal(f"environment.etc.{entry[2]} is set in more than one place")
        target = "/etc/" + entry[2]
        edits = [delete_node(site.tree, doomed)]
        secret = site.secret.reveal()
        if site.literal.strip() == secret:
            return Rewrite(site.secret, edits, f"sops secret at {target}", path=target, mode=mode)
        if "\n" in secret or secret not in site.literal:
            return Refusal("the secret cannot be located inside the file text")
        before, _, after = site.literal.partition(secret)
        lines = (
            (
                emit.indented_string_line(before)
                + emit.placeholder(name)
                + emit.indented_string_line(after)
            )
            .rstrip("\n")
            .split("\n")
        )
        return Rewrite(
            site.secret,
            edits,
            f"sops template at {target}",
            template=TemplateLine(
                template=entry[2], line="\n".join(lines), option=(), path=target, mode=mode
            ),
        )


def _inside(node: Node, outer: Node) -> bool:
    return bool(outer.start_byte <= node.start_byte and node.end_byte <= outer.end_byte)


class ServiceEnvironment:
    key = "systemd-environment"
    description = "systemd.services.<s>.environment.VAR → EnvironmentFile from a sops template"

    def matches(self, path: Sequence[str]) -> bool:
        return match("systemd.services.*.environment.*", path)

    def name(self, site: Site) -> str:
        return f"{slug(site.path[2])}/{slug(site.path[4])}"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        if not env_safe(site.secret):
            return Refusal("the value has characters an environment file cannot carry")
        binding = site.binding
        if binding is None:
            return Refusal("the value is not a plain attribute")
        service = site.path[2]
        option = ("systemd", "services", service, "serviceConfig", "EnvironmentFile")
        return Rewrite(
            site.secret,
            [delete_node(site.tree, binding)],
            f"{service}: EnvironmentFile {site.path[4]}",
            template=TemplateLine(
                template=f"{service}.env",
                line=f"{site.path[4]}={emit.placeholder(name)}",
                option=option,
                restart_units=(f"{service}.service",),
            ),
        )


class NetworkManager:
    key = "networkmanager-profile"
    description = (
        "NetworkManager ensureProfiles secrets (wifi psk, 802.1x password) → $VAR + "
        "ensureProfiles.environmentFiles from a sops template"
    )

    def matches(self, path: Sequence[str]) -> bool:
        return match("networking.networkmanager.ensureProfiles.profiles.*.*.*", path) and (
            path[5] in ("wifi-security", "802-1x", "vpn-secrets", "wireguard")
        )

    def name(self, site: Site) -> str:
        return f"networkmanager/{slug(site.path[4])}/{slug(site.path[6])}"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        if not env_safe(site.secret):
            return Refusal("the value has characters an environment file cannot carry")
        var = env_var(name.removeprefix("networkmanager/"))
        option = ("networking", "networkmanager", "ensureProfiles", "environmentFiles")
        return Rewrite(
            site.secret,
            [replace_literal(site, emit.nix_string("$" + var))],
            f"{site.path[-1]} = ${var} (environmentFiles)",
            template=TemplateLine(
                template="networkmanager.env",
                line=f"{var}={emit.placeholder(name)}",
                option=option,
                restart_units=("NetworkManager-ensure-profiles.service",),
                list_option=True,
            ),
        )


class NixAccessTokens:
    key = "nix-access-tokens"
    description = (
        "nix.settings.access-tokens → extra-access-tokens lines in a sops template "
        'pulled in with nix.extraOptions = "!include …"'
    )

    def matches(self, path: Sequence[str]) -> bool:
        return match("nix.settings.access-tokens", path) or match(
            "nix.settings.access-tokens.[]", path
        )

    def _split(self, site: Site) -> tuple[str, str] | None:
        host, sep, token = site.literal.strip().partition("=")
        if not sep or not host or " " in site.literal.strip() or not token:
            return None
        return host, token

    def name(self, site: Site) -> str:
        parts = self._split(site)
        return f"nix/access-tokens/{slug(parts[0]) if parts else 'token'}"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        parts = self._split(site)
        if parts is None:
            return Refusal("access-tokens is not a single host=token entry")
        host, token = parts
        if token != site.secret.reveal() and site.literal != site.secret.reveal():
            return Refusal("the secret is not the token of the entry")
        if not env_safe(Sensitive(token)):
            return Refusal("the token has characters nix.conf cannot carry")
        doomed = site.binding if site.binding is not None else site.string
        return Rewrite(
            Sensitive(token),
            [delete_node(site.tree, doomed)],
            "nix.extraOptions = !include (extra-access-tokens)",
            template=TemplateLine(
                template="nix-access-tokens",
                line=f"extra-access-tokens = {host}={emit.placeholder(name)}",
                option=("nix", "extraOptions"),
                include=True,
            ),
        )


class NginxBasicAuth:
    key = "nginx-basic-auth"
    description = (
        "nginx basicAuth.<user> (virtual host or location) → basicAuthFile from a sops "
        "template of htpasswd lines `user:{PLAIN}…`, as the module writes them (owner nginx)"
    )
    _user = re.compile(r"^[A-Za-z0-9._@+-]+$")

    def matches(self, path: Sequence[str]) -> bool:
        return match("services.nginx.virtualHosts.*.basicAuth.*", path) or match(
            "services.nginx.virtualHosts.*.locations.*.basicAuth.*", path
        )

    @staticmethod
    def _zone(site: Site) -> tuple[str, ...]:
        """The path of the virtual host or location that holds ``basicAuth``."""
        return tuple(site.path[:-2])

    @staticmethod
    def _where(path: Sequence[str]) -> str:
        vhost = slug(path[3])
        if len(path) == 4:
            return vhost
        location = path[5].strip("/")
        return f"{vhost}/{slug(location) if location else 'root'}"

    def name(self, site: Site) -> str:
        return f"nginx/{self._where(self._zone(site))}/basic-auth/{slug(site.path[-1])}"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        if "\n" in site.secret.reveal() or "\r" in site.secret.reveal():
            return Refusal("the value spans several lines")
        user = site.path[-1]
        if not self._user.match(user):
            return Refusal("the user name cannot be written into an htpasswd line")
        zone = self._zone(site)
        if site.has_option((*zone, "basicAuthFile")):
            return Refusal("basicAuthFile is set as well")
        binding = site.binding
        if binding is None:
            return Refusal("the secret is not the whole value of an attribute")
        template = "nginx-basic-auth-" + self._where(zone).replace("/", "-")
        return Rewrite(
            site.secret,
            [delete_node(site.tree, binding)],
            f"{'.'.join(zone[3:])}.basicAuthFile (htpasswd template)",
            template=TemplateLine(
                template=template,
                line=f"{user}:{{PLAIN}}{emit.placeholder(name)}",
                option=(*zone, "basicAuthFile"),
                owner="config.services.nginx.user",
                restart_units=("nginx.service",),
            ),
        )


class HomeAssistant:
    key = "home-assistant-secret"
    description = (
        'services.home-assistant.config values → "!secret <name>" with a sops template '
        "rendered as <configDir>/secrets.yaml (owner hass)"
    )
    _secrets_yaml = "/var/lib/hass/secrets.yaml"  # the module's default configDir

    def matches(self, path: Sequence[str]) -> bool:
        return match("services.home-assistant.config.**", path)

    def name(self, site: Site) -> str:
        parts = [slug(p) for p in site.path[3:] if not p.startswith("[")]
        return "home-assistant/" + "/".join(parts)

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        value = site.secret.reveal()
        if "'" in value or any(ord(c) < 32 for c in value):
            return Refusal("the value cannot be written into secrets.yaml as it is")
        if site.has_option(("services", "home-assistant", "configDir")):
            return Refusal("configDir is set: secrets.yaml would be looked for elsewhere")
        key = re.sub(r"[^a-z0-9]+", "_", name.removeprefix("home-assistant/").lower()).strip("_")
        return Rewrite(
            site.secret,
            [replace_literal(site, emit.nix_string(f"!secret {key}"))],
            f'{site.path[-1]} = "!secret {key}" (secrets.yaml)',
            template=TemplateLine(
                template="home-assistant-secrets.yaml",
                line=f"{key}: '{emit.placeholder(name)}'",
                option=(),
                owner='"hass"',
                path=self._secrets_yaml,
                restart_units=("home-assistant.service",),
            ),
        )


def write_text_call(tree: Tree, string: Node) -> Node | None:
    """The ``pkgs.writeText "name" <string>`` call whose content is ``string``, if any
    (also through a ``"${…}"`` wrapper)."""
    outer = string.parent
    if outer is None or outer.type != "apply_expression":
        return None
    argument = outer.child_by_field_name("argument")
    inner = outer.child_by_field_name("function")
    if argument is None or argument.id != string.id or inner is None:
        return None
    if inner.type != "apply_expression":
        return None
    function = inner.child_by_field_name("function")
    if function is None or not emit.text_of(tree, function).endswith("writeText"):
        return None
    node: Node = outer
    parent = node.parent
    if parent is not None and parent.type == "interpolation":
        wrapper = parent.parent
        if (
            wrapper is not None
            and wrapper.type == "string_expression"
            and (len(wrapper.named_children) == 1)
        ):
            node = wrapper
    return node


class WriteTextFile:
    key = "write-text-file"
    description = (
        'a *File option given pkgs.writeText "…" "<secret>" (restic passwordFile, …) '
        "→ the sops secret's path"
    )
    _units: ClassVar[dict[str, str]] = {"restic": "restic-backups-{}.service"}

    def matches(self, path: Sequence[str]) -> bool:
        return bool(path) and path[-1].endswith(("File", "_file", "Path"))

    def name(self, site: Site) -> str:
        head = site.path[1] if site.path[0] == "services" and len(site.path) > 2 else site.path[0]
        middle = [slug(p) for p in site.path[2:-1] if not p.startswith("[")]
        middle = [m for m in middle if m not in ("backups", "jobs", "settings", "config")]
        last = re.sub(r"(File|_file|Path)$", "", site.path[-1]) or "secret"
        return "/".join([slug(head), *middle, slug(last)])

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.holder is None:
            return Refusal(f"{site.path[-1]} holds a file name, not the secret itself")
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the file text")
        units: tuple[str, ...] = ()
        if site.path[:3] == ("services", "restic", "backups") and len(site.path) > 3:
            units = (self._units["restic"].format(site.path[3]),)
        return Rewrite(
            site.secret,
            [Edit(site.holder.start_byte, site.holder.end_byte, emit.secret_ref(name))],
            f"{site.path[-1]} = sops secret (was pkgs.writeText)",
            restart_units=units,
        )


CATALOGUE: dict[str, Entry] = {
    "alertmanager-receiver": Alertmanager(),
    "prometheus-credentials": PrometheusCredentials(),
    "borgbackup-passphrase": Borgbackup(),
    "grafana-file-provider": Grafana(),
    "user-password": UserPassword(),
    "wireless-psk": Wireless(),
    "wireguard-keys": Wireguard(),
    "tailscale-authkey": Tailscale(),
    "file-options": FileOptions(),
    "environment-etc": EtcFile(),
    "systemd-environment": ServiceEnvironment(),
    "networkmanager-profile": NetworkManager(),
    "nix-access-tokens": NixAccessTokens(),
    "nginx-basic-auth": NginxBasicAuth(),
    "home-assistant-secret": HomeAssistant(),
    "write-text-file": WriteTextFile(),
}


def lookup(path: Sequence[str]) -> Entry | None:
    """The catalogue entry for an attribute path, or None (no safe rewrite known)."""
    return next((entry for entry in CATALOGUE.values() if entry.matches(path)), None)
