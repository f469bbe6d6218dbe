"""``.sops.yaml`` as secretkit reads it: admin and host keys, creation rules.

A view over the one parse of :mod:`secretkit.sops.config` (its ``read_tree``): the
engine resolves aliases away, this view keeps which anchor each rule names.  The names
of the anchors and the per-host file are the layout's (:mod:`secretkit.layouts.sops_nix`)::

    keys:
      - &admin_<name> age1…          # one per admin (a hand-written one may be PGP)
      - &host_<name> age1…           # one per host (always age1…, never raw ssh)
    creation_rules:
      - path_regex: ^secrets/<host>\\.yaml$
        key_groups:
          - age: [*admin_…, *host_<host>]

Reading (for ``migrate``, ``rotate``, ``hosts list``)::

    read_keys(root: Path) -> SopsYaml                  # .admins {name: age1/PGP}, .hosts, .rules
    host_recipient(root: Path, host: str) -> str | None
    rule_for_path(root: Path, path: str | Path) -> Rule | None  # first matching rule, like sops
    SopsYaml.host_rule(host) -> Rule | None            # the ^secrets/<host>\\.yaml$ rule
    SopsYaml.hosts_of_rule(rule) -> list[str]          # host names whose key the rule lists
    validate_name(name, what="host") -> str

The edits are :mod:`secretkit.keys.sops_yaml_edits` (on a
:class:`~secretkit.keys.sops_yaml_doc.SopsYamlDoc`).  A malformed file raises a
:class:`~secretkit.errors.ConfigError` with a one-line message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from secretkit.errors import ConfigError, UserError
from secretkit.layouts import sops_nix
from secretkit.lazy_re import lazy
from secretkit.sops.config import CONFIG_NAME, SYNTAX_PROBLEMS, path_regex_matches, read_tree
from secretkit.sops.keysources.bech32 import Bech32Error, normalize_age_recipient
from secretkit.sops.keysources.pgp import PgpKeySource
from secretkit.sops.yaml_spans import Node, YamlSyntaxError

SOPS_YAML = CONFIG_NAME
_NAME_RE = lazy(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
CONFIG_HINT = "fix .sops.yaml by hand (see `secretkit init --help`) and retry"


# ---------------------------------------------------------------------------
# names
# ---------------------------------------------------------------------------


def validate_name(name: str, what: str = "host") -> str:
    """A host or admin name usable as anchor suffix and in ``secrets/<name>.yaml``."""
    if not _NAME_RE.match(name):
        shown = name if len(name) <= 64 and name.isprintable() else "(given name)"
        raise UserError(
            f"invalid {what} name {shown!r}: use letters, digits, '-' and '_' (max 63)",
            hint=(
                "use the NixOS host name, e.g. 'immich'"
                if what == "host"
                else "use your user name, e.g. 'stian'"
            ),
        )
    return name


# ---------------------------------------------------------------------------
# read model
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One creation rule as sops sees it (aliases resolved)."""

    index: int
    path_regex: str | None
    groups: tuple[tuple[str, ...], ...]  # age recipients per key group
    anchors: tuple[str, ...]  # anchor names of the keys it lists, in order

    def matches(self, relpath: str) -> bool:
        if self.path_regex is None:
            return True
        return path_regex_matches(self.path_regex, relpath)

    @property
    def recipients(self) -> tuple[str, ...]:
        return tuple(r for group in self.groups for r in group)


@dataclass(frozen=True)
class SopsYaml:
    path: Path
    exists: bool
    admins: dict[str, str] = field(default_factory=dict)  # name -> age1… or PGP fingerprint
    hosts: dict[str, str] = field(default_factory=dict)  # name -> age1…
    keys: dict[str, str] = field(default_factory=dict)  # every anchor in keys: -> value
    rules: tuple[Rule, ...] = ()

    def host_rule(self, host: str) -> Rule | None:
        regex = sops_nix.host_rule_regex(host)
        return next((r for r in self.rules if r.path_regex == regex), None)

    def rule_for(self, relpath: str) -> Rule | None:
        """The first rule matching ``relpath`` (relative to the ``.sops.yaml``), like sops."""
        return next((r for r in self.rules if r.matches(relpath)), None)

    def hosts_of_rule(self, rule: Rule) -> list[str]:
        names = [sops_nix.host_of_anchor(a) for a in rule.anchors if sops_nix.is_host_anchor(a)]
        return list(dict.fromkeys(names))


def read_keys(root: Path) -> SopsYaml:
    path = root / SOPS_YAML
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return SopsYaml(path=path, exists=False)
    except OSError as exc:
        raise ConfigError(f"cannot read {SOPS_YAML}: {exc.strerror}") from None
    return model_of(path, parse_tree(data))


def host_recipient(root: Path, host: str) -> str | None:
    return read_keys(root).hosts.get(host)


def rule_for_path(root: Path, path: str | Path) -> Rule | None:
    rel = Path(path)
    if rel.is_absolute():
        rel = rel.relative_to(root)
    return read_keys(root).rule_for(rel.as_posix())


# ---------------------------------------------------------------------------
# the parse and the model
# ---------------------------------------------------------------------------


def parse_tree(data: bytes) -> Node | None:
    """The one parse (:func:`secretkit.sops.config.read_tree`); ConfigError (one line)
    when it is not a ``.sops.yaml`` secretkit can read: not UTF-8, not YAML, an anchor
    defined twice, an alias with no anchor, nesting deeper than any config needs."""
    try:
        return read_tree(data)
    except UnicodeDecodeError:
        raise ConfigError(f"{SOPS_YAML} is not UTF-8 text", hint=CONFIG_HINT) from None
    except YamlSyntaxError as exc:
        where = f" (line {exc.line}, column {exc.column})" if exc.line else ""
        what = SYNTAX_PROBLEMS.get(exc.kind, "is not valid YAML")
        raise ConfigError(f"{SOPS_YAML} {what}{where}", hint=CONFIG_HINT) from None


def key_items(doc: Node | None) -> list[tuple[Node, int, Node]]:
    """(containing list, index, scalar) of every scalar under ``keys`` (nested lists/maps)."""
    out: list[tuple[Node, int, Node]] = []

    def walk(node: Node) -> None:
        if node.kind == "seq":
            for i, item in enumerate(node.items):
                if item.kind == "scalar":
                    out.append((node, i, item))
                else:
                    walk(item)
        elif node.kind == "map":
            for _, value in node.pairs:
                walk(value)

    keys = doc.get("keys") if doc is not None and doc.kind == "map" else None
    if keys is not None:
        walk(keys)
    return out


def check_shape(doc: Node | None) -> None:
    if doc is None or (doc.kind == "scalar" and doc.value in ("", "null", "~")):
        return
    if doc.kind != "map":
        raise ConfigError(
            f"{SOPS_YAML} must be a mapping with keys and creation_rules", hint=CONFIG_HINT
        )
    keys = doc.get("keys")
    if keys is not None and keys.kind not in ("seq", "map") and not is_null(keys):
        raise ConfigError(
            f"{SOPS_YAML}: keys must be a list of anchored recipients", hint=CONFIG_HINT
        )
    rules = doc.get("creation_rules")
    if rules is not None and rules.kind != "seq" and not is_null(rules):
        raise ConfigError(f"{SOPS_YAML}: creation_rules must be a list", hint=CONFIG_HINT)
    for i, rule in enumerate(rules.items if rules is not None else [], start=1):
        if rule.kind != "map":
            raise ConfigError(f"{SOPS_YAML}: creation rule {i} is not a mapping", hint=CONFIG_HINT)
        regex = rule.get("path_regex")
        if regex is not None and not is_null(regex) and not is_string(regex):
            raise ConfigError(
                f"{SOPS_YAML}: creation rule {i} has a path_regex that is not a string",
                hint=CONFIG_HINT,
            )
        groups = rule.get("key_groups")
        if groups is not None and groups.kind != "seq" and not is_null(groups):
            raise ConfigError(
                f"{SOPS_YAML}: creation rule {i} has key_groups that is not a list",
                hint=CONFIG_HINT,
            )
    for _, _, node in key_items(doc):
        name = node.anchor or ""
        if sops_nix.is_admin_anchor(name):
            admin_recipient(name, node.value)
        elif sops_nix.is_host_anchor(name):
            host_recipient_of(name, node.value)


def is_pgp_fingerprint(text: str) -> bool:
    """Whether ``text`` is what sops reads as a PGP key in ``pgp:`` (the engine's reading)."""
    try:
        PgpKeySource().parse_recipient(text)
    except ConfigError:
        return False
    return True


def key_kind(recipient: str) -> str:
    """``age`` or ``pgp``: the sops key-group field a recipient of the model goes under."""
    return "pgp" if is_pgp_fingerprint(recipient) else "age"


def admin_recipient(anchor: str, value: str) -> str:
    """An admin key as the model keeps it: an ``age1…`` recipient (lower case) or a PGP
    fingerprint (as written, spaces removed) — sops opens files with either."""
    if is_pgp_fingerprint(value):
        return PgpKeySource().parse_recipient(value)
    try:
        return normalize_age_recipient(value)
    except Bech32Error as exc:
        raise ConfigError(
            f"{SOPS_YAML}: key {anchor} is neither an age recipient nor a PGP fingerprint "
            f"({exc.message})",
            hint="write an admin key as age1… or as the 40 hex digits of a PGP fingerprint",
        ) from None


def host_recipient_of(anchor: str, value: str) -> str:
    """A host key: always ``age1…`` (sops-nix decrypts on the host with age, from its ssh
    host key); a PGP fingerprint or anything else is refused with the way out."""
    if is_pgp_fingerprint(value):
        raise ConfigError(
            f"{SOPS_YAML}: key {anchor} is a PGP fingerprint, but a host key must be age: "
            "sops-nix decrypts on the host with age (from its ssh host key)",
            hint=f"rename the anchor if it is not a host's key, or give the host its age key: "
            f"secretkit rotate host {sops_nix.host_of_anchor(anchor)} --ssh-pubkey-file "
            "<its ssh_host_ed25519_key.pub>",
        )
    try:
        return normalize_age_recipient(value)
    except Bech32Error as exc:
        raise ConfigError(
            f"{SOPS_YAML}: key {anchor} is not a valid age recipient ({exc.message})",
            hint="host keys must be age1… recipients",
        ) from None


_NOT_A_STRING = lazy(
    r"[-+]?(?:\d+|0o[0-7]+|0x[0-9a-fA-F]+|(?:\.\d+|\d+\.?\d*)(?:[eE][-+]?\d+)?|\.(?:inf|Inf|INF))"
    r"|\.(?:nan|NaN|NAN)|true|True|TRUE|false|False|FALSE"
)


def is_string(node: Node) -> bool:
    """Whether a scalar is a string to YAML (quoted, or plain and not a number/bool/null)."""
    if node.kind != "scalar":
        return False
    return node.style is not None or not (is_null(node) or _NOT_A_STRING.fullmatch(node.value))


def is_null(node: Node) -> bool:
    return node.kind == "scalar" and node.style is None and node.value in ("", "null", "~")


def age_values(value: Node | None, anchors: dict[str, Node]) -> list[tuple[str, str | None]]:
    """(recipient, anchor name) of the age entries of a rule or group: a list, an alias,
    or sops' comma-separated string."""
    if value is None or is_null(value):
        return []
    if value.kind == "alias":
        target = anchors.get(value.anchor or "")
        return [(target.value, value.anchor)] if target is not None else []
    if value.kind == "scalar":
        if value.anchor:
            return [(value.value, value.anchor)]
        return [(v.strip(), None) for v in value.value.split(",") if v.strip()]
    if value.kind == "seq":
        out: list[tuple[str, str | None]] = []
        for item in value.items:
            if item.kind in ("alias", "scalar"):
                out.extend(
                    age_values(item, anchors)
                    if item.kind == "alias"
                    else [(item.value, item.anchor)]
                )
        return out
    return []


def model_of(path: Path, doc: Node | None) -> SopsYaml:
    check_shape(doc)
    admins: dict[str, str] = {}
    hosts: dict[str, str] = {}
    keys: dict[str, str] = {}
    anchors = {
        n.anchor: n
        for n in (doc.walk() if doc is not None else [])
        if n.anchor and n.kind != "alias"
    }
    for _, _, node in key_items(doc):
        name = node.anchor
        if not name:
            continue
        keys[name] = node.value
        if sops_nix.is_admin_anchor(name):
            admins[sops_nix.admin_of_anchor(name)] = admin_recipient(name, node.value)
        elif sops_nix.is_host_anchor(name):
            hosts[sops_nix.host_of_anchor(name)] = node.value.strip().lower()
    rules: list[Rule] = []
    raw_rules = doc.get("creation_rules") if doc is not None and doc.kind == "map" else None
    for i, rule in enumerate(
        raw_rules.items if raw_rules is not None and raw_rules.kind == "seq" else []
    ):
        groups: list[tuple[str, ...]] = []
        names: list[str] = []
        raw_groups = rule.get("key_groups")
        if raw_groups is not None and raw_groups.kind == "seq":
            sources = raw_groups.items
        elif raw_groups is not None and not is_null(raw_groups):
            sources = []
        else:
            sources = [rule]
        for group in sources:
            if group.kind != "map":
                continue
            entries = age_values(group.get("age"), anchors)
            groups.append(tuple(value.strip() for value, _ in entries))
            names.extend(anchor for _, anchor in entries if anchor)
        regex = rule.get("path_regex")
        rules.append(
            Rule(
                index=i,
                path_regex=regex.value if regex is not None and not is_null(regex) else None,
                groups=tuple(groups),
                anchors=tuple(names),
            )
        )
    return SopsYaml(
        path=path, exists=True, admins=admins, hosts=hosts, keys=keys, rules=tuple(rules)
    )
