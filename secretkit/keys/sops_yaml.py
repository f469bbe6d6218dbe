"""``.sops.yaml`` keys and creation rules: read them, and edit them in place.

The file shape secretkit manages (``DESIGN.md``)::

    keys:
      - &admin_<name> age1…          # one per admin
      - &host_<name> age1…           # one per host (always age1…, never raw ssh)
    creation_rules:
      - path_regex: ^secrets/<host>\\.yaml$
        key_groups:
          - age: [*admin_…, *host_<host>]

Everything else the user wrote (comments, order, other anchors and rules, merge
keys) is kept: edits go through a ruamel.yaml round trip with the file's own
indentation, and the new text is re-parsed and validated before it replaces the
old one atomically.  Every edit is idempotent (a second run returns
``changed=False`` and writes nothing); a malformed file or a name clash raises a
:class:`~secretkit.errors.ConfigError`/:class:`~secretkit.errors.UserError`
with a one-line message and leaves the file alone.

Reading (for ``migrate``, ``rotate``, ``hosts list``)::

    find_root(cwd: Path) -> Path                       # git root, or cwd outside git
    read_keys(root: Path) -> SopsYaml                  # .admins/.hosts {name: age1}, .rules
    host_recipient(root: Path, host: str) -> str | None
    rule_for_path(root: Path, path: str | Path) -> Rule | None  # first matching rule, like sops
    SopsYaml.host_rule(host) -> Rule | None            # the ^secrets/<host>\\.yaml$ rule
    SopsYaml.hosts_of_rule(rule) -> list[str]          # host names whose key the rule lists
    host_secrets_path(host) -> str                     # 'secrets/<host>.yaml'

Editing — pure functions (bytes in, :class:`Edit` out; ``Edit.data`` is None
when nothing changes) for callers that write inside a
:class:`~secretkit.atomic.Transaction`, and writers that apply them::

    init_text(existing: bytes | None, admin_name, recipient, path) -> Edit
    add_host_text(data: bytes, name, recipient, path) -> Edit
    remove_host_text(data: bytes, name, path) -> Edit
    set_host_key_text(data: bytes, name, recipient, path) -> Edit   # for `rotate host`
    init(root, recipient, admin_name) / add_host(root, name, recipient) /
    remove_host(root, name) / set_host_key(root, name, recipient) -> Change
    validate_name(name, what="host") -> str

(``path`` is the ``.sops.yaml`` path, used in results and for the engine's check.)
Removing an entry drops its same-line comment; full-line comments around it stay.

:class:`Change` says what changed (anchors and rules added/removed, rules whose
recipients changed and whose files therefore need ``updatekeys``, the old and
new recipient) so that removal/rotation can re-encrypt the affected files.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secretkit.errors import ConfigError, UserError
from secretkit.sops.keysources.bech32 import Bech32Error, normalize_age_recipient
from secretkit.sops.yaml_spans import Node

if TYPE_CHECKING:
    from secretkit.sops.config import SopsConfig

SOPS_YAML = ".sops.yaml"
ADMIN_PREFIX = "admin_"
HOST_PREFIX = "host_"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
_CONFIG_HINT = "fix .sops.yaml by hand (see `secretkit init --help`) and retry"


# ---------------------------------------------------------------------------
# names and paths
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


def host_secrets_path(host: str) -> str:
    """The per-host sops file, relative to the repository root."""
    return f"secrets/{host}.yaml"


def host_rule_regex(host: str) -> str:
    return f"^secrets/{host}\\.yaml$"


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
        from secretkit.sops.config import path_regex_matches

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
    admins: dict[str, str] = field(default_factory=dict)  # name -> age1…
    hosts: dict[str, str] = field(default_factory=dict)  # name -> age1…
    keys: dict[str, str] = field(default_factory=dict)  # every anchor in keys: -> value
    rules: tuple[Rule, ...] = ()

    def host_rule(self, host: str) -> Rule | None:
        regex = host_rule_regex(host)
        return next((r for r in self.rules if r.path_regex == regex), None)

    def rule_for(self, relpath: str) -> Rule | None:
        """The first rule matching ``relpath`` (relative to the ``.sops.yaml``), like sops."""
        return next((r for r in self.rules if r.matches(relpath)), None)

    def hosts_of_rule(self, rule: Rule) -> list[str]:
        names = [a[len(HOST_PREFIX) :] for a in rule.anchors if a.startswith(HOST_PREFIX)]
        return list(dict.fromkeys(names))


def find_root(cwd: Path) -> Path:
    """Where ``.sops.yaml`` lives: the git work-tree root, or ``cwd`` outside git."""
    from secretkit.git import inside_git_dir, repo_root

    root = repo_root(cwd)
    if root is not None:
        return root
    if inside_git_dir(cwd):  # a bare repository: writing here would go into git's own files
        raise UserError(
            f"{cwd} is a git directory with no work tree (a bare repository or .git)",
            hint="run secretkit in a clone with a work tree (git clone <repo> <dir>)",
        )
    return cwd


def read_keys(root: Path) -> SopsYaml:
    path = root / SOPS_YAML
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return SopsYaml(path=path, exists=False)
    except OSError as exc:
        raise ConfigError(f"cannot read {SOPS_YAML}: {exc.strerror}") from None
    return _model(path, _load(data))


def host_recipient(root: Path, host: str) -> str | None:
    return read_keys(root).hosts.get(host)


def rule_for_path(root: Path, path: str | Path) -> Rule | None:
    rel = Path(path)
    if rel.is_absolute():
        rel = rel.relative_to(root)
    return read_keys(root).rule_for(rel.as_posix())


# ---------------------------------------------------------------------------
# ruamel round trip
# ---------------------------------------------------------------------------


def _load(data: bytes) -> Node | None:
    """Parse ``data`` into a span tree; ConfigError (one line) when it is not a
    ``.sops.yaml`` secretkit can read: not UTF-8, not YAML, an anchor defined twice, an
    alias with no anchor, nesting deeper than any config needs."""
    from secretkit.sops import yaml_spans

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{SOPS_YAML} is not UTF-8 text", hint=_CONFIG_HINT) from None
    try:
        return yaml_spans.parse(text)
    except yaml_spans.YamlSyntaxError as exc:
        where = f" (line {exc.line}, column {exc.column})" if exc.line else ""
        what = {
            "duplicate anchor": "defines an anchor twice",
            "undefined alias": "uses an alias with no anchor",
            "too deep": "is nested too deeply",
        }.get(exc.kind, "is not valid YAML")
        raise ConfigError(f"{SOPS_YAML} {what}{where}", hint=_CONFIG_HINT) from None


def _key_items(doc: Node | None) -> list[tuple[Node, int, Node]]:
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


def _check_shape(doc: Node | None) -> None:
    if doc is None or (doc.kind == "scalar" and doc.value in ("", "null", "~")):
        return
    if doc.kind != "map":
        raise ConfigError(
            f"{SOPS_YAML} must be a mapping with keys and creation_rules", hint=_CONFIG_HINT
        )
    keys = doc.get("keys")
    if keys is not None and keys.kind not in ("seq", "map") and not _null(keys):
        raise ConfigError(
            f"{SOPS_YAML}: keys must be a list of anchored recipients", hint=_CONFIG_HINT
        )
    rules = doc.get("creation_rules")
    if rules is not None and rules.kind != "seq" and not _null(rules):
        raise ConfigError(f"{SOPS_YAML}: creation_rules must be a list", hint=_CONFIG_HINT)
    for i, rule in enumerate(rules.items if rules is not None else [], start=1):
        if rule.kind != "map":
            raise ConfigError(f"{SOPS_YAML}: creation rule {i} is not a mapping", hint=_CONFIG_HINT)
        regex = rule.get("path_regex")
        if regex is not None and not _null(regex) and not _string(regex):
            raise ConfigError(
                f"{SOPS_YAML}: creation rule {i} has a path_regex that is not a string",
                hint=_CONFIG_HINT,
            )
        groups = rule.get("key_groups")
        if groups is not None and groups.kind != "seq" and not _null(groups):
            raise ConfigError(
                f"{SOPS_YAML}: creation rule {i} has key_groups that is not a list",
                hint=_CONFIG_HINT,
            )
    for _, _, node in _key_items(doc):
        name = node.anchor
        if name and name.startswith((ADMIN_PREFIX, HOST_PREFIX)):
            try:
                normalize_age_recipient(node.value)
            except Bech32Error as exc:
                raise ConfigError(
                    f"{SOPS_YAML}: key {name} is not a valid age recipient ({exc.message})",
                    hint="host and admin keys must be age1… recipients",
                ) from None


_NOT_A_STRING = re.compile(
    r"[-+]?(?:\d+|0o[0-7]+|0x[0-9a-fA-F]+|(?:\.\d+|\d+\.?\d*)(?:[eE][-+]?\d+)?|\.(?:inf|Inf|INF))"
    r"|\.(?:nan|NaN|NAN)|true|True|TRUE|false|False|FALSE"
)


def _string(node: Node) -> bool:
    """Whether a scalar is a string to YAML (quoted, or plain and not a number/bool/null)."""
    if node.kind != "scalar":
        return False
    return node.style is not None or not (_null(node) or _NOT_A_STRING.fullmatch(node.value))


def _null(node: Node) -> bool:
    return node.kind == "scalar" and node.style is None and node.value in ("", "null", "~")


def _age_values(value: Node | None, anchors: dict[str, Node]) -> list[tuple[str, str | None]]:
    """(recipient, anchor name) of the age entries of a rule or group: a list, an alias,
    or sops' comma-separated string."""
    if value is None or _null(value):
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
                    _age_values(item, anchors)
                    if item.kind == "alias"
                    else [(item.value, item.anchor)]
                )
        return out
    return []


def _model(path: Path, doc: Node | None) -> SopsYaml:
    _check_shape(doc)
    admins: dict[str, str] = {}
    hosts: dict[str, str] = {}
    keys: dict[str, str] = {}
    anchors = {
        n.anchor: n
        for n in (doc.walk() if doc is not None else [])
        if n.anchor and n.kind != "alias"
    }
    for _, _, node in _key_items(doc):
        name = node.anchor
        if not name:
            continue
        keys[name] = node.value
        if name.startswith(ADMIN_PREFIX):
            admins[name[len(ADMIN_PREFIX) :]] = node.value.strip().lower()
        elif name.startswith(HOST_PREFIX):
            hosts[name[len(HOST_PREFIX) :]] = node.value.strip().lower()
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
        elif raw_groups is not None and not _null(raw_groups):
            sources = []
        else:
            sources = [rule]
        for group in sources:
            if group.kind != "map":
                continue
            entries = _age_values(group.get("age"), anchors)
            groups.append(tuple(value.strip() for value, _ in entries))
            names.extend(anchor for _, anchor in entries if anchor)
        regex = rule.get("path_regex")
        rules.append(
            Rule(
                index=i,
                path_regex=regex.value if regex is not None and not _null(regex) else None,
                groups=tuple(groups),
                anchors=tuple(names),
            )
        )
    return SopsYaml(
        path=path, exists=True, admins=admins, hosts=hosts, keys=keys, rules=tuple(rules)
    )


# ---------------------------------------------------------------------------
# edits: spans of the parsed text, spliced (never a re-print of the file)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """What an edit did to ``.sops.yaml``."""

    path: Path
    changed: bool
    created: bool = False
    added_keys: tuple[str, ...] = ()
    removed_keys: tuple[str, ...] = ()
    added_rules: tuple[str, ...] = ()  # path_regex of new rules
    removed_rules: tuple[str | None, ...] = ()  # path_regex of deleted rules (None: catch-all)
    changed_rules: tuple[str | None, ...] = ()  # rules whose recipients changed (updatekeys)
    old_recipient: str | None = None
    new_recipient: str | None = None


@dataclass(frozen=True)
class Edit:
    data: bytes | None  # None: nothing to change
    change: Change
    config: SopsConfig | None = None  # the engine's reading of ``data`` (validated)


_KEY_FIELDS = ("age", "pgp", "kms", "gcp_kms", "azure_keyvault", "hc_vault_transit_uri", "hckms")


class _Doc:
    """A ``.sops.yaml`` being edited: its text, its span tree, the splices so far."""

    def __init__(self, data: bytes | None, path: Path) -> None:
        from secretkit.sops import yaml_spans

        self.path = path
        self.original = data
        self.text = ""
        self.tree: yaml_spans.Node | None = None
        if data is not None and data.strip():
            self.tree = _load(data)  # duplicate anchors, bad aliases: ConfigError
            _check_shape(self.tree)
            self.text = data.decode("utf-8")
        if self.tree is not None and self.tree.kind != "map":
            self.tree = None
        self.splices: list[yaml_spans.Splice] = []

    # -- lookups -------------------------------------------------------------
    def key_items(self) -> list[tuple[Any, int, Any]]:
        """(list, index, scalar) of every scalar under ``keys`` (nested lists/maps too)."""
        out: list[tuple[Any, int, Any]] = []

        def walk(node: Any) -> None:
            if node.kind == "seq":
                for i, item in enumerate(node.items):
                    if item.kind == "scalar":
                        out.append((node, i, item))
                    else:
                        walk(item)
            elif node.kind == "map":
                for _, value in node.pairs:
                    walk(value)

        keys = self.tree.get("keys") if self.tree is not None else None
        if keys is not None:
            walk(keys)
        return out

    def anchored(self, name: str) -> tuple[Any, int, Any] | None:
        return next((x for x in self.key_items() if x[2].anchor == name), None)

    def admin_nodes(self) -> list[Any]:
        return [n for _, _, n in self.key_items() if (n.anchor or "").startswith(ADMIN_PREFIX)]

    def keys_list(self) -> Any:
        """The list new anchors go to (None: there is no ``keys:`` yet)."""
        keys = self.tree.get("keys") if self.tree is not None else None
        if keys is None or keys.kind == "seq":
            return keys
        if keys.kind == "map":
            for _, value in keys.pairs:
                if value.kind == "seq":
                    return value
        raise ConfigError(f"{SOPS_YAML}: keys has no list to add a key to", hint=_CONFIG_HINT)

    def rules(self) -> list[Any]:
        rules = self.tree.get("creation_rules") if self.tree is not None else None
        return list(rules.items) if rules is not None and rules.kind == "seq" else []

    # -- splices ---------------------------------------------------------------
    def splice(self, start: int, end: int, text: str) -> None:
        from secretkit.sops.yaml_spans import Splice

        self.splices.append(Splice(start, end, text))

    def insert_item(self, seq: Any, index: int, item: str, parent_key: str) -> None:
        """Insert ``item`` (one line of YAML, no dash) at ``index`` of ``seq``.  The full-
        line comments above the item now at ``index`` stay above it."""
        from secretkit.sops.yaml_spans import column, dash_of, item_lines, line_start

        text = self.text
        if seq is None:
            self._append_top(parent_key, [item])
            return
        if seq.flow:
            if not seq.items:
                self.splice(seq.start, seq.end, f"[{item}]")
            elif index == 0:
                self.splice(seq.items[0].start, seq.items[0].start, f"{item}, ")
            else:
                self.splice(seq.items[index - 1].end, seq.items[index - 1].end, f", {item}")
            return
        neighbour = seq.items[index] if index < len(seq.items) else seq.items[-1]
        dash = dash_of(text, neighbour)
        gap = max(1, neighbour.start - dash - 1) if text[dash] == "-" else 1
        line = (
            " " * column(text, dash)
            + "-"
            + " " * gap
            + item.replace("\n", "\n" + " " * (column(text, dash) + 1 + gap))
            + "\n"
        )
        if index < len(seq.items):
            at = (
                line_start(text, dash_of(text, seq.items[index]))
                if index == 0
                else item_lines(text, seq.items[index - 1])[1]
            )
        else:
            at = item_lines(text, seq.items[-1])[1]
        if at == len(text) and not text.endswith("\n"):
            line = "\n" + line
        self.splice(at, at, line)

    def _append_top(self, key: str, items: list[str]) -> None:
        """Add a top-level ``key:`` with a block list of ``items`` (``keys`` goes first)."""
        from secretkit.sops.yaml_spans import line_start

        text = self.text
        o, q = _seq_style(self)
        head = " " * o + "-" + " " * max(1, q - o - 1)
        body = "".join(head + item.replace("\n", "\n" + " " * q) + "\n" for item in items)
        if key == "keys" and self.tree is not None and self.tree.pairs:
            at = line_start(text, self.tree.pairs[0][0].start)
            self.splice(at, at, f"keys:\n{body}")
            return
        lead = "" if not text or text.endswith("\n") else "\n"
        self.splice(len(text), len(text), f"{lead}{key}:\n{body}")

    def delete_items(self, seq: Any, indices: set[int], key: Any) -> None:
        """Delete items of a list; a list left empty becomes ``[]``."""
        from secretkit.sops.yaml_spans import item_lines, line_end

        text = self.text
        if not indices:
            return
        if seq.flow:
            kept = [i for i in range(len(seq.items)) if i not in indices]
            if not kept:
                self.splice(seq.start, seq.end, "[]")
                return
            for i in indices:  # each deletion takes the separator before it (or after)
                if (i > 0 and (i - 1) in kept) or (i > 0 and i - 1 not in indices):
                    self.splice(seq.items[i - 1].end, seq.items[i].end, "")
                else:
                    self.splice(seq.items[i].start, seq.items[i + 1].start, "")
            return
        if len(indices) == len(seq.items) and key is not None:
            self.splice(key.end, line_end(text, seq.end), ": []\n")
            return
        for i in sorted(indices):
            start, end = item_lines(text, seq.items[i])
            self.splice(start, end, "")

    def delete_pair(self, mapping: Any, index: int, is_item: bool) -> None:
        """Delete one key: value of a block mapping (the first key of a list item moves the
        next key up onto the dash line)."""
        from secretkit.sops.yaml_spans import line_end, line_start

        if mapping.flow:
            raise ConfigError(
                f"{SOPS_YAML}: a creation rule in flow style {{…}} cannot be edited",
                hint="write it in block style, or edit it by hand",
            )
        key, value = mapping.pairs[index]
        if index == 0 and is_item and len(mapping.pairs) > 1:
            self.splice(key.start, mapping.pairs[1][0].start, "")
        else:
            self.splice(line_start(self.text, key.start), line_end(self.text, value.end), "")

    # -- output ----------------------------------------------------------------
    def render(self, change: Change) -> Edit:
        from secretkit.sops import yaml_spans

        try:
            text = yaml_spans.apply(self.text, self.splices)
        except ValueError:  # pragma: no cover - the edits are built not to overlap
            raise ConfigError(f"{SOPS_YAML}: conflicting edits", hint=_CONFIG_HINT) from None
        data = text.encode("utf-8")
        if self.original is not None and data == self.original:
            return Edit(None, Change(path=self.path, changed=False))
        # the new text must parse and load as rules before anybody writes it
        tree = _load(data)
        _model(self.path, tree)
        return Edit(data, change, _check_with_engine(tree, self.path))


def _check_with_engine(tree: Node | None, path: Path) -> SopsConfig:
    """The sops engine's own config loader must still accept the rules."""
    from secretkit.sops.config import parse_document
    from secretkit.sops.yaml_spans import to_python

    return parse_document(to_python(tree), path)


def _recipient(text: str) -> str:
    return normalize_age_recipient(text)


def _regex_of(rule: Any) -> str | None:
    regex = rule.get("path_regex") if rule.kind == "map" else None
    return regex.value if regex is not None and regex.kind == "scalar" else None


def _aliases(node: Any) -> list[str]:
    return [n.anchor for n in node.walk() if n.kind == "alias" and n.anchor]


def _uses(node: Any, anchor: str) -> bool:
    return any(n.anchor == anchor for n in node.walk() if n.kind in ("alias", "scalar"))


def _groups(rule: Any) -> list[Any]:
    groups = rule.get("key_groups") if rule.kind == "map" else None
    return (
        [g for g in groups.items if g.kind == "map"]
        if groups is not None and groups.kind == "seq"
        else []
    )


def _seq_style(d: _Doc) -> tuple[int, int]:
    """(dash offset, content offset) of block lists under a key, as this file writes them."""
    from secretkit.sops.yaml_spans import column, dash_of

    tree = d.tree
    for name in ("creation_rules", "keys"):
        key = tree.key_node(name) if tree is not None else None
        seq = tree.get(name) if tree is not None else None
        if key is not None and seq is not None and seq.kind == "seq" and not seq.flow and seq.items:
            base = column(d.text, key.start)
            dash = dash_of(d.text, seq.items[0])
            return column(d.text, dash) - base, column(d.text, seq.items[0].start) - base
    return 2, 4


def _flow_like_existing(d: _Doc) -> bool:
    """Whether existing rules write ``age:`` lists in flow style ``[*a, *b]``."""
    for rule in d.rules():
        for group in _groups(rule):
            age = group.get("age")
            if age is not None and age.kind == "seq":
                return bool(age.flow)
    return False


def _nested_style(d: _Doc) -> tuple[int, int, int, int]:
    """(dash, content) offsets of ``key_groups`` lists and of block ``age`` lists as the
    existing rules write them (the sops-nix README indents them less than the top)."""
    from secretkit.sops.yaml_spans import column, dash_of

    o, q = _seq_style(d)
    groups_style, age_style = (o, q), (o, q)
    for rule in d.rules():
        key, groups = rule.key_node("key_groups"), rule.get("key_groups")
        if key is None or groups is None or groups.kind != "seq" or groups.flow:
            continue
        if not groups.items:
            continue
        first = groups.items[0]
        base = column(d.text, key.start)
        groups_style = (
            column(d.text, dash_of(d.text, first)) - base,
            column(d.text, first.start) - base,
        )
        age_key, age = first.key_node("age"), first.get("age")
        block_age = age is not None and age.kind == "seq" and not age.flow and age.items
        if age_key is not None and age is not None and block_age:
            base = column(d.text, age_key.start)
            age_style = (
                column(d.text, dash_of(d.text, age.items[0])) - base,
                column(d.text, age.items[0].start) - base,
            )
        break
    return (*groups_style, *age_style)


def _rule_text(d: _Doc, regex: str, aliases: list[str]) -> str:
    """A new per-host rule as a list item: its first line without the dash, the others
    indented relative to the item's content column, in the file's style."""
    g_o, g_q, a_o, a_q = _nested_style(d)
    lines = [f"path_regex: {regex}", "key_groups:"]
    head = f"{' ' * g_o}-{' ' * max(1, g_q - g_o - 1)}"
    if _flow_like_existing(d):
        lines.append(f"{head}age: [{', '.join(aliases)}]")
    else:
        lines.append(f"{head}age:")
        gap = " " * max(1, a_q - a_o - 1)
        lines.extend(f"{' ' * (g_q + a_o)}-{gap}{alias}" for alias in aliases)
    return "\n".join(lines)


def _insert_rule(d: _Doc, position: int, regex: str, aliases: list[str]) -> None:
    from secretkit.sops.yaml_spans import column, line_end

    rules = d.tree.get("creation_rules") if d.tree is not None else None
    item = _rule_text(d, regex, aliases)
    if rules is not None and rules.kind == "seq" and not rules.flow and rules.items:
        d.insert_item(rules, position, item, "creation_rules")
        return
    if rules is not None and rules.kind == "seq" and rules.flow and rules.items:
        raise ConfigError(
            f"{SOPS_YAML}: creation_rules in flow style [...] cannot be edited",
            hint="write the list in block style (one `- ` item per rule)",
        )
    key = d.tree.key_node("creation_rules") if d.tree is not None else None
    if rules is None or key is None:
        d._append_top("creation_rules", [item])
        return
    o, q = _seq_style(d)
    base = column(d.text, key.start)
    body = " " * (base + o) + "-" + " " * max(1, q - o - 1)
    body += item.replace("\n", "\n" + " " * (base + q))
    d.splice(key.end, line_end(d.text, rules.end), ":\n" + body + "\n")


def _add_admin_alias_to_host_rules(d: _Doc, anchor: str) -> list[str | None]:
    """Put a new admin into every per-host rule (rules listing a host_ key)."""
    changed: list[str | None] = []
    for rule in d.rules():
        for group in _groups(rule):
            age = group.get("age")
            if age is None or age.kind != "seq":
                continue
            names = [item.anchor or "" if item.kind == "alias" else "" for item in age.items]
            if any(n.startswith(HOST_PREFIX) for n in names) and anchor not in names:
                admins_at = [i for i, n in enumerate(names) if n.startswith(ADMIN_PREFIX)]
                d.insert_item(age, admins_at[-1] + 1 if admins_at else 0, f"*{anchor}", "age")
                changed.append(_regex_of(rule))
                break
    return changed


def init_text(existing: bytes | None, admin_name: str, recipient: str, path: Path) -> Edit:
    """Create the file with one admin, or add the admin to an existing file."""
    validate_name(admin_name, "admin")
    recipient = _recipient(recipient)
    anchor = ADMIN_PREFIX + admin_name
    if existing is None or not existing.strip():
        text = (
            "# sops creation rules, managed by secretkit (comments and order are kept).\n"
            "# Hosts are added with `secretkit hosts add NAME --ssh-pubkey-file FILE`.\n"
            "keys:\n"
            f"  - &{anchor} {recipient}\n"
            "creation_rules: []\n"
        )
        data = text.encode()
        tree = _load(data)
        _model(path, tree)
        _check_with_engine(tree, path)
        return Edit(data, Change(path, True, created=True, added_keys=(anchor,)))
    d = _Doc(existing, path)
    found = d.anchored(anchor)
    if found is not None:
        if found[2].value.strip().lower() == recipient:
            return Edit(None, Change(path, False))
        raise UserError(
            f"admin {admin_name} already has a different key in {SOPS_YAML}",
            hint="pick another --admin-name, or edit the admin key in .sops.yaml by hand",
        )
    for other in d.admin_nodes():
        if other.value.strip().lower() == recipient:
            taken = (other.anchor or "")[len(ADMIN_PREFIX) :]
            raise UserError(
                f"this key is already admin {taken} in {SOPS_YAML}",
                hint=f"run with --admin-name {taken}, or pass another key",
            )
    keys = d.keys_list()
    items = keys.items if keys is not None else []
    admins_at = [i for i, n in enumerate(items) if (n.anchor or "").startswith(ADMIN_PREFIX)]
    d.insert_item(keys, admins_at[-1] + 1 if admins_at else 0, f"&{anchor} {recipient}", "keys")
    changed_rules = _add_admin_alias_to_host_rules(d, anchor)
    return d.render(Change(path, True, added_keys=(anchor,), changed_rules=tuple(changed_rules)))


def _refuse_shared_key(d: _Doc, recipient: str, anchor: str) -> None:
    """A host key that is already another host's (or an admin's) would let that host
    read this host's secrets: a copied .pub file is the usual cause."""
    for _, _, node in d.key_items():
        other = node.anchor or ""
        if other != anchor and node.value.strip().lower() == recipient:
            if other.startswith(HOST_PREFIX):
                whose = f"host {other.removeprefix(HOST_PREFIX)}"
            elif other.startswith(ADMIN_PREFIX):
                whose = f"admin {other.removeprefix(ADMIN_PREFIX)}"
            else:
                whose = f"&{other}" if other else "an unnamed entry"
            raise UserError(
                f"this key is already the key of {whose} in {SOPS_YAML}; "
                "each host needs its own key",
                hint="use this host's own /etc/ssh/ssh_host_ed25519_key.pub "
                "(ssh-keyscan -t ed25519 HOST)",
            )


def _rule_matches(rule: Any, relpath: str) -> bool:
    from secretkit.sops.config import path_regex_matches

    if rule.kind != "map":
        return False
    regex = _regex_of(rule)
    return True if regex is None else path_regex_matches(regex, relpath)


def add_host_text(data: bytes, name: str, recipient: str, path: Path) -> Edit:
    """Add ``&host_<name>`` and its creation rule (admins + host) before any catch-all."""
    validate_name(name)
    recipient = _recipient(recipient)
    d = _Doc(data, path)
    anchor = HOST_PREFIX + name
    admins = d.admin_nodes()
    if not admins:
        raise UserError(
            f"{SOPS_YAML} has no admin key",
            hint="run `secretkit init --admin age1…` first",
        )
    added_keys: tuple[str, ...] = ()
    _refuse_shared_key(d, recipient, anchor)
    found = d.anchored(anchor)
    if found is not None:
        if found[2].value.strip().lower() != recipient:
            raise UserError(
                f"host {name} already has a different key in {SOPS_YAML}",
                hint=f"to replace it run `secretkit rotate host {name} --age …`",
            )
    else:
        keys = d.keys_list()
        items = keys.items if keys is not None else []
        hosts_at = [i for i, n in enumerate(items) if (n.anchor or "").startswith(HOST_PREFIX)]
        d.insert_item(
            keys, hosts_at[-1] + 1 if hosts_at else len(items), f"&{anchor} {recipient}", "keys"
        )
        added_keys = (anchor,)
    regex = host_rule_regex(name)
    rules = d.rules()
    existing = next((r for r in rules if _regex_of(r) == regex), None)
    added_rules: tuple[str, ...] = ()
    relpath = host_secrets_path(name)
    if existing is not None:
        if not _uses(existing, anchor):
            raise UserError(
                f"the creation rule for {relpath} does not list host {name}",
                hint=f"add *{anchor} to that rule in {SOPS_YAML} by hand",
            )
        first = next(i for i, r in enumerate(rules) if _rule_matches(r, relpath) or r is existing)
        if rules[first] is not existing:
            raise UserError(
                f"creation rule {first + 1} of {SOPS_YAML} matches {relpath} before its own "
                f"rule, so host {name} could not decrypt it",
                hint=f"move the rule for {relpath} above rule {first + 1}",
            )
    else:
        aliases = [f"*{n.anchor}" for n in admins] + [f"*{anchor}"]
        position = next((i for i, r in enumerate(rules) if _rule_matches(r, relpath)), len(rules))
        _insert_rule(d, position, regex, aliases)
        added_rules = (regex,)
    if not added_keys and not added_rules:
        return Edit(None, Change(path, False))
    return d.render(
        Change(path, True, added_keys=added_keys, added_rules=added_rules, new_recipient=recipient)
    )


def _empty(node: Any, gone: set[int]) -> bool:
    """Whether a value holds no key once the items in ``gone`` are deleted."""
    if id(node) in gone:
        return True
    if node.kind == "seq":
        return all(id(item) in gone for item in node.items)
    if node.kind == "map":
        return not node.pairs
    return node.kind == "scalar" and node.value in ("", "null", "~") and node.style is None


def remove_host_text(data: bytes, name: str, path: Path) -> Edit:
    """Drop ``&host_<name>``, its rule, and the alias wherever it is used."""
    validate_name(name)
    d = _Doc(data, path)
    anchor = HOST_PREFIX + name
    regex = host_rule_regex(name)
    found = d.anchored(anchor)
    rules = d.rules()
    own = [i for i, r in enumerate(rules) if _regex_of(r) == regex]
    if found is None and not own:
        return Edit(None, Change(path, False))
    old = found[2].value.strip().lower() if found is not None else None
    drop_rules = set(own)
    removed_rules: list[str | None] = [regex] * len(own)
    changed_rules: list[str | None] = []
    later: list[tuple[str, Any, Any]] = []  # what to splice inside the rules that stay

    for i, rule in enumerate(rules):
        if i in drop_rules or rule.kind != "map":
            continue
        gone: set[int] = set()  # ids of nodes (list items, pair values) that go
        rewrite: list[tuple[Any, str | None]] = []  # "a,b" strings that lose the key
        holders = [rule, *_groups(rule)]
        for holder in holders:
            for key, value in holder.pairs:
                if value.kind == "alias" and value.anchor == anchor:
                    gone.add(id(value))
                elif value.kind == "seq":
                    for item in value.items:
                        if (item.kind == "alias" and item.anchor == anchor) or (
                            key.value == "age"
                            and item.kind == "scalar"
                            and item.value.strip().lower() == old
                        ):
                            gone.add(id(item))
                elif key.value == "age" and value.kind == "scalar" and old is not None:
                    parts = [p.strip() for p in value.value.split(",") if p.strip()]
                    kept = [p for p in parts if p.lower() != old]
                    if len(kept) != len(parts):
                        if kept:
                            rewrite.append((value, ",".join(kept)))
                        else:
                            gone.add(id(value))
        if not gone and not rewrite:
            continue
        # groups and rules left without any key go too
        groups_node = rule.get("key_groups")
        empty_groups = [g for g in _groups(rule) if all(_empty(v, gone) for _, v in g.pairs)]
        if groups_node is not None and groups_node.kind == "seq":
            empty = len(empty_groups) == len(groups_node.items)
        else:
            empty = all(_empty(v, gone) for k, v in rule.pairs if k.value in _KEY_FIELDS)
        if empty:
            drop_rules.add(i)
            removed_rules.append(_regex_of(rule))
            continue
        changed_rules.append(_regex_of(rule))
        later.append(("rule", rule, (gone, rewrite, empty_groups)))

    rules_node = d.tree.get("creation_rules") if d.tree is not None else None
    if drop_rules and rules_node is not None:
        d.delete_items(
            rules_node, drop_rules, d.tree.key_node("creation_rules") if d.tree else None
        )
    for _, rule, (gone, rewrite, empty_groups) in later:
        _splice_rule(d, rule, gone, rewrite, empty_groups)
    if found is not None:
        keys_seq, index, _ = found
        key = (
            d.tree.key_node("keys")
            if d.tree is not None and d.tree.get("keys") is keys_seq
            else None
        )
        d.delete_items(keys_seq, {index}, key)
    return d.render(
        Change(
            path,
            True,
            removed_keys=(anchor,) if found is not None else (),
            removed_rules=tuple(removed_rules),
            changed_rules=tuple(changed_rules),
            old_recipient=old,
        )
    )


def _splice_rule(
    d: _Doc,
    rule: Any,
    gone: set[int],
    rewrite: list[tuple[Any, str | None]],
    empty_groups: list[Any],
) -> None:
    from secretkit.sops.yaml_spans import value_span

    groups_node = rule.get("key_groups")
    dropped = {id(g) for g in empty_groups}
    if groups_node is not None and groups_node.kind == "seq" and dropped:
        d.delete_items(
            groups_node, {i for i, g in enumerate(groups_node.items) if id(g) in dropped}, None
        )
    for holder, is_item in [
        (rule, True),
        *((g, True) for g in _groups(rule) if id(g) not in dropped),
    ]:
        for index, (key, value) in enumerate(holder.pairs):
            if id(value) in gone:
                d.delete_pair(holder, index, is_item)
            elif value.kind == "seq":
                indices = {j for j, item in enumerate(value.items) if id(item) in gone}
                d.delete_items(value, indices, key)
        for value, new in rewrite:
            if any(value is v for _, v in holder.pairs):
                start, end = value_span(d.text, value)
                quote = value.style or ""
                d.splice(start, end, f"{quote}{new}{quote}")


def set_host_key_text(data: bytes, name: str, recipient: str, path: Path) -> Edit:
    """Replace the key of ``&host_<name>``; every alias follows (for ``rotate host``)."""
    from secretkit.sops.yaml_spans import value_span

    validate_name(name)
    recipient = _recipient(recipient)
    d = _Doc(data, path)
    anchor = HOST_PREFIX + name
    found = d.anchored(anchor)
    if found is None:
        raise UserError(
            f"no host {name} in {SOPS_YAML}",
            hint=f"add it with `secretkit hosts add {name} --age …`",
        )
    old = found[2]
    if old.value.strip().lower() == recipient:
        return Edit(None, Change(path, False))
    _refuse_shared_key(d, recipient, anchor)
    start, end = value_span(d.text, old)
    d.splice(start, end, recipient)
    changed_rules = [_regex_of(r) for r in d.rules() if _uses(r, anchor)]
    return d.render(
        Change(
            path,
            True,
            changed_rules=tuple(dict.fromkeys(changed_rules)),
            old_recipient=old.value.strip().lower(),
            new_recipient=recipient,
        )
    )


# ---------------------------------------------------------------------------
# writers
# ---------------------------------------------------------------------------


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read {SOPS_YAML}: {exc.strerror}") from None


def _apply(edit: Edit) -> Change:
    from secretkit.atomic import refuse_links, write_atomic

    if edit.data is not None:
        refuse_links(edit.change.path.parent, edit.change.path)
        write_atomic(edit.change.path, edit.data)
    return edit.change


def _require(path: Path) -> bytes:
    data = _read(path)
    if data is None:
        raise UserError(
            f"no {SOPS_YAML} in {path.parent}",
            hint="run `secretkit init --admin age1…` first",
        )
    return data


def init(root: Path, recipient: str, admin_name: str) -> Change:
    path = root / SOPS_YAML
    return _apply(init_text(_read(path), admin_name, recipient, path))


def add_host(root: Path, name: str, recipient: str) -> Change:
    path = root / SOPS_YAML
    return _apply(add_host_text(_require(path), name, recipient, path))


def remove_host(root: Path, name: str) -> Change:
    path = root / SOPS_YAML
    return _apply(remove_host_text(_require(path), name, path))


def set_host_key(root: Path, name: str, recipient: str) -> Change:
    path = root / SOPS_YAML
    return _apply(set_host_key_text(_require(path), name, recipient, path))


def add_rule_text(data: bytes, regex: str, anchors: Sequence[str], path: Path) -> Edit:
    """Add a creation rule ``path_regex: regex`` → the admins and the keys ``anchors``
    name (``host_<h>``), before any rule that would match first.  An existing rule with
    that regex must already list exactly those keys (else a clear refusal)."""
    d = _Doc(data, path)
    admins = d.admin_nodes()
    if not admins:
        raise UserError(f"{SOPS_YAML} has no admin key", hint="run `secretkit init --admin age1…`")
    nodes = list(admins)
    for name in anchors:
        found = d.anchored(name)
        if found is None:
            raise UserError(f"{SOPS_YAML} has no key &{name}", hint="secretkit hosts add it")
        nodes.append(found[2])
    wanted = {n.value.strip().lower() for n in nodes}
    rules = d.rules()
    for rule in rules:
        if _regex_of(rule) == regex:
            have = {
                recipient.strip().lower()
                for group in [rule, *_groups(rule)]
                for recipient, _ in _age_values(group.get("age"), _anchor_map(d))
            }
            if have != wanted:
                raise UserError(
                    f"the creation rule {regex} in {SOPS_YAML} names other keys",
                    hint="fix that rule by hand or remove it, then run again",
                )
            return Edit(None, Change(path, False))
    aliases = [f"*{n.anchor}" for n in nodes]
    relpath = regex.strip("^$").replace("\\", "")
    position = next((i for i, r in enumerate(rules) if _rule_matches(r, relpath)), len(rules))
    _insert_rule(d, position, regex, aliases)
    return d.render(Change(path, True, added_rules=(regex,)))


def _anchor_map(d: _Doc) -> dict[str, Any]:
    return {n.anchor: n for _, _, n in d.key_items() if n.anchor}
