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

import difflib
import io
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secretkit.errors import ConfigError, UserError
from secretkit.keys.bech32 import Bech32Error, normalize_age_recipient

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
        if self.path_regex is None:
            return True
        try:
            return re.search(self.path_regex, relpath) is not None
        except re.error:
            return False

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
    from secretkit.git import repo_root

    return repo_root(cwd) or cwd


def read_keys(root: Path) -> SopsYaml:
    path = root / SOPS_YAML
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return SopsYaml(path=path, exists=False)
    except OSError as exc:
        raise ConfigError(f"cannot read {SOPS_YAML}: {exc.strerror}") from None
    return _model(path, _load(data)[0])


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


def _yaml(mapping: int = 2, sequence: int = 4, offset: int = 2) -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


_INDENTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0), (2, 3, 1), (4, 2, 0))


def _load(data: bytes) -> tuple[Any, tuple[int, int, int]]:
    """Parse ``data``; return the document and the indentation that reproduces it best."""
    from ruamel.yaml.error import YAMLError, YAMLWarning

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{SOPS_YAML} is not UTF-8 text", hint=_CONFIG_HINT) from None
    with warnings.catch_warnings():
        warnings.simplefilter("error", YAMLWarning)
        try:
            doc = _yaml().load(text)
        except YAMLWarning:
            raise ConfigError(f"{SOPS_YAML} defines an anchor twice", hint=_CONFIG_HINT) from None
        except YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            what = "is not valid YAML"
            problem = str(getattr(exc, "problem", "") or "")
            if "undefined alias" in problem:
                what = "uses an alias with no anchor"
            raise ConfigError(f"{SOPS_YAML} {what}{where}", hint=_CONFIG_HINT) from None
        except RecursionError:
            raise ConfigError(f"{SOPS_YAML} is nested too deeply", hint=_CONFIG_HINT) from None
    best = _INDENTS[0]
    if doc is not None:
        best_score = -1.0
        for indent in _INDENTS:
            out = _dump(doc, indent)
            if out == text:
                best = indent
                break
            score = difflib.SequenceMatcher(None, out, text, autojunk=False).ratio()
            if score > best_score:
                best, best_score = indent, score
    return doc, best


def _dump(doc: Any, indent: tuple[int, int, int]) -> str:
    stream = io.StringIO()
    _yaml(*indent).dump(doc, stream)
    return _rejoin_alias_comments(stream.getvalue(), doc)


def _eol_comments(node: Any, out: set[str]) -> None:
    ca = getattr(node, "ca", None)
    if ca is not None:
        for entry in ca.items.values():
            for token in entry or []:
                value = getattr(token, "value", None)
                if isinstance(value, str) and value.startswith("#"):
                    out.add(value.partition("\n")[0].rstrip())
    if isinstance(node, dict):
        for value in node.values():
            _eol_comments(value, out)
    elif isinstance(node, list):
        for value in node:
            _eol_comments(value, out)


def _rejoin_alias_comments(text: str, doc: Any) -> str:
    """ruamel writes the same-line comment of an alias (``- *host_a  # web``) on the
    next line; put it back where the user had it."""
    if "*" not in text:
        return text
    comments: set[str] = set()
    _eol_comments(doc, comments)
    lines = text.split("\n")
    out: list[str] = []
    for line in lines:
        stripped = line.strip()
        if (
            out
            and stripped in comments
            and re.search(r"\*[^\s#,\[\]{}]+$", out[-1])
            and not out[-1].lstrip().startswith("#")
        ):
            out[-1] = out[-1] + " " + stripped
            continue
        out.append(line)
    return "\n".join(out)


def _anchor(node: Any) -> str | None:
    anchor = getattr(node, "anchor", None)
    value = getattr(anchor, "value", None) if anchor is not None else None
    return value if isinstance(value, str) else None


def _key_items(doc: Any) -> Iterator[tuple[Any, int, Any]]:
    """(containing list, index, node) of every scalar under ``keys`` (nested lists/maps too)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    def walk(node: Any) -> Iterator[tuple[Any, int, Any]]:
        if isinstance(node, CommentedSeq):
            for i, item in enumerate(node):
                if isinstance(item, str):
                    yield node, i, item
                else:
                    yield from walk(item)
        elif isinstance(node, CommentedMap):
            for value in node.values():
                yield from walk(value)

    keys = doc.get("keys") if doc is not None else None
    yield from walk(keys)


def _check_shape(doc: Any) -> None:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if doc is None:
        return
    if not isinstance(doc, CommentedMap):
        raise ConfigError(
            f"{SOPS_YAML} must be a mapping with keys and creation_rules", hint=_CONFIG_HINT
        )
    keys = doc.get("keys")
    if keys is not None and not isinstance(keys, CommentedSeq | CommentedMap):
        raise ConfigError(
            f"{SOPS_YAML}: keys must be a list of anchored recipients", hint=_CONFIG_HINT
        )
    rules = doc.get("creation_rules")
    if rules is not None and not isinstance(rules, CommentedSeq):
        raise ConfigError(f"{SOPS_YAML}: creation_rules must be a list", hint=_CONFIG_HINT)
    for i, rule in enumerate(rules or [], start=1):
        if not isinstance(rule, CommentedMap):
            raise ConfigError(f"{SOPS_YAML}: creation rule {i} is not a mapping", hint=_CONFIG_HINT)
        regex = rule.get("path_regex")
        if regex is not None and not isinstance(regex, str):
            raise ConfigError(
                f"{SOPS_YAML}: creation rule {i} has a path_regex that is not a string",
                hint=_CONFIG_HINT,
            )
        groups = rule.get("key_groups")
        if groups is not None and not isinstance(groups, CommentedSeq):
            raise ConfigError(
                f"{SOPS_YAML}: creation rule {i} has key_groups that is not a list",
                hint=_CONFIG_HINT,
            )
    for _, _, node in _key_items(doc):
        name = _anchor(node)
        if name and name.startswith((ADMIN_PREFIX, HOST_PREFIX)):
            try:
                normalize_age_recipient(str(node))
            except Bech32Error as exc:
                raise ConfigError(
                    f"{SOPS_YAML}: key {name} is not a valid age recipient ({exc.message})",
                    hint="host and admin keys must be age1… recipients",
                ) from None


def _age_values(value: Any) -> list[Any]:
    """The age entries of a rule or group: a list, an alias, or sops' comma-separated string."""
    if value is None:
        return []
    if isinstance(value, str):
        if _anchor(value):
            return [value]
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _model(path: Path, doc: Any) -> SopsYaml:
    _check_shape(doc)
    admins: dict[str, str] = {}
    hosts: dict[str, str] = {}
    keys: dict[str, str] = {}
    for _, _, node in _key_items(doc):
        name = _anchor(node)
        if not name:
            continue
        keys[name] = str(node)
        if name.startswith(ADMIN_PREFIX):
            admins[name[len(ADMIN_PREFIX) :]] = str(node).strip().lower()
        elif name.startswith(HOST_PREFIX):
            hosts[name[len(HOST_PREFIX) :]] = str(node).strip().lower()
    rules: list[Rule] = []
    for i, rule in enumerate((doc or {}).get("creation_rules") or []):
        groups: list[tuple[str, ...]] = []
        anchors: list[str] = []
        raw_groups = rule.get("key_groups")
        sources = list(raw_groups) if raw_groups is not None else [rule]
        for group in sources:
            if not hasattr(group, "get"):
                continue
            entries = _age_values(group.get("age"))
            groups.append(tuple(str(e).strip() for e in entries))
            anchors.extend(a for a in (_anchor(e) for e in entries) if a)
        regex = rule.get("path_regex")
        rules.append(
            Rule(
                index=i,
                path_regex=str(regex) if regex is not None else None,
                groups=tuple(groups),
                anchors=tuple(anchors),
            )
        )
    return SopsYaml(
        path=path, exists=True, admins=admins, hosts=hosts, keys=keys, rules=tuple(rules)
    )


# ---------------------------------------------------------------------------
# comment-preserving list surgery
# ---------------------------------------------------------------------------


def _last_path(seq: Any, index: int) -> tuple[list[Any], tuple[Any, Any, int]]:
    """The block containers on the way to the last scalar of ``seq[index]`` (innermost
    last) and the comment slot of that scalar: (holder, key, slot index)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    containers: list[Any] = []
    holder: Any = seq
    key: Any = index
    while True:
        node = holder[key]
        block = isinstance(node, CommentedMap | CommentedSeq) and len(node)
        if not block or node.fa.flow_style():
            return containers, (holder, key, 2 if isinstance(holder, CommentedMap) else 0)
        containers.append(node)
        holder, key = (
            node,
            (list(node.keys())[-1] if isinstance(node, CommentedMap) else len(node) - 1),
        )


def _take_following(seq: Any, index: int) -> str:
    """Remove and return the full-line comments that follow ``seq[index]`` (they
    belong to what comes next); its own same-line comment stays."""
    containers, (holder, key, slot) = _last_path(seq, index)
    taken = ""
    entry = holder.ca.items.get(key)
    token = entry[slot] if entry and len(entry) > slot else None
    if token is not None and isinstance(token.value, str):
        first, _, rest = token.value.partition("\n")
        if rest.strip():
            token.value = first + "\n"
            taken += rest
    for container in reversed(containers):
        end = getattr(container.ca, "end", None)
        if end:
            for tok in end:
                if isinstance(tok.value, str) and tok.value.strip():
                    column = tok.start_mark.column if tok.start_mark is not None else 0
                    taken += "".join(
                        " " * column + line.lstrip() + "\n" for line in tok.value.splitlines()
                    )
            container.ca.end = []
    return taken


def _put_following(seq: Any, index: int, text: str) -> None:
    """Attach full-line comments ``text`` after ``seq[index]``."""
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    if not text.strip():
        return
    _, (holder, key, slot) = _last_path(seq, index)
    entry = holder.ca.items.setdefault(key, [None, None, None, None])
    while len(entry) <= slot:
        entry.append(None)
    token = entry[slot]
    if token is not None and isinstance(token.value, str):
        token.value = token.value.rstrip("\n") + "\n" + text
    else:
        entry[slot] = CommentToken("\n" + text, CommentMark(0), None)


def _delete_item(seq: Any, index: int, parent: Any = None, parent_key: Any = None) -> None:
    """Delete ``seq[index]`` keeping the comment lines that belong to what follows it."""
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    carry = _take_following(seq, index)
    del seq[index]
    if not carry.strip():
        return
    if index > 0:
        _put_following(seq, index - 1, carry)
    elif parent is not None and len(seq):
        entry = parent.ca.items.setdefault(parent_key, [None, None, None, None])
        while len(entry) < 4:
            entry.append(None)
        lines = [ln for ln in carry.splitlines() if ln.strip()]
        column = len(lines[0]) - len(lines[0].lstrip())
        text = "\n".join(ln.strip() for ln in lines) + "\n"
        entry[3] = [*(entry[3] or []), CommentToken(text, CommentMark(column), None)]


def _insert_item(seq: Any, index: int, node: Any) -> None:
    """Insert ``node`` at ``index`` so that the full-line comments that preceded the
    item now at ``index`` still precede it (ruamel stores them as the tail of the
    item before)."""
    carry = _take_following(seq, index - 1) if 0 < index < len(seq) else ""
    seq.insert(index, node)
    _put_following(seq, index, carry)


# ---------------------------------------------------------------------------
# edits
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


class _Doc:
    """A parsed ``.sops.yaml`` being edited."""

    def __init__(self, data: bytes | None, path: Path) -> None:
        from ruamel.yaml.comments import CommentedMap

        self.path = path
        self.original = data
        if data is None or not data.strip():
            self.doc: Any = CommentedMap()
            self.indent = _INDENTS[0]
        else:
            self.doc, self.indent = _load(data)
            if self.doc is None:
                self.doc = CommentedMap()
        _check_shape(self.doc)

    # -- lookups -------------------------------------------------------------
    def anchored(self, name: str) -> tuple[Any, int, Any] | None:
        return next((x for x in _key_items(self.doc) if _anchor(x[2]) == name), None)

    def admin_nodes(self) -> list[Any]:
        nodes = [n for _, _, n in _key_items(self.doc)]
        return [n for n in nodes if (_anchor(n) or "").startswith(ADMIN_PREFIX)]

    def keys_list(self) -> Any:
        """The list new anchors go to (created when missing)."""
        from ruamel.yaml.comments import CommentedMap, CommentedSeq

        keys = self.doc.get("keys")
        if keys is None:
            keys = CommentedSeq()
            self._insert_top("keys", keys, first=True)
            return keys
        if isinstance(keys, CommentedSeq):
            return keys
        assert isinstance(keys, CommentedMap)
        for value in keys.values():
            if isinstance(value, CommentedSeq):
                return value
        raise ConfigError(f"{SOPS_YAML}: keys has no list to add a key to", hint=_CONFIG_HINT)

    def rules(self) -> Any:
        from ruamel.yaml.comments import CommentedSeq

        rules = self.doc.get("creation_rules")
        if rules is None:
            rules = CommentedSeq()
            self._insert_top("creation_rules", rules, first=False)
        if not len(rules):
            rules.fa.set_block_style()
        return rules

    def _insert_top(self, key: str, value: Any, first: bool) -> None:
        if first:
            self.doc.insert(0, key, value)
        else:
            self.doc[key] = value

    def occurrences(self, target: Any) -> list[tuple[Any, Any]]:
        """(container, key/index) of every place ``target`` (an anchored node) appears."""
        from ruamel.yaml.comments import CommentedMap, CommentedSeq

        found: list[tuple[Any, Any]] = []

        def walk(node: Any) -> None:
            if isinstance(node, CommentedMap):
                for k, v in node.items():
                    if v is target:
                        found.append((node, k))
                    else:
                        walk(v)
            elif isinstance(node, CommentedSeq):
                for i, v in enumerate(node):
                    if v is target:
                        found.append((node, i))
                    else:
                        walk(v)

        walk(self.doc)
        return found

    # -- output ----------------------------------------------------------------
    def render(self, change: Change) -> Edit:
        text = _dump(self.doc, self.indent)
        data = text.encode("utf-8")
        if self.original is not None and data == self.original:
            return Edit(None, Change(path=self.path, changed=False))
        # the new text must parse and load as rules before anybody writes it
        _model(self.path, _load(data)[0])
        _check_with_engine(data, self.path)
        return Edit(data, change)


def _check_with_engine(data: bytes, path: Path) -> None:
    """The sops engine's own config loader must still accept the rules."""
    from secretkit.sops.config import parse_config

    parse_config(data, path)


def _new_anchored(value: str, anchor: str) -> Any:
    from ruamel.yaml.scalarstring import PlainScalarString

    return PlainScalarString(value, anchor=anchor)


def _recipient(text: str) -> str:
    return normalize_age_recipient(text)


def _flow_like_existing(doc: Any) -> bool:
    """Whether existing rules write ``age:`` lists in flow style ``[*a, *b]``."""
    for rule in doc.get("creation_rules") or []:
        groups = rule.get("key_groups") if hasattr(rule, "get") else None
        for group in groups or []:
            age = group.get("age") if hasattr(group, "get") else None
            if isinstance(age, list) and hasattr(age, "fa"):
                return bool(age.fa.flow_style())
    return False


def _add_admin_alias_to_host_rules(d: _Doc, admin: Any) -> list[str | None]:
    """Put a new admin into every per-host rule (rules listing a host_ key)."""
    changed: list[str | None] = []
    for rule in d.doc.get("creation_rules") or []:
        for group in rule.get("key_groups") or []:
            age = group.get("age") if hasattr(group, "get") else None
            if not isinstance(age, list):
                continue
            names = [_anchor(v) or "" for v in age]
            if any(n.startswith(HOST_PREFIX) for n in names) and not any(v is admin for v in age):
                admins_at = [i for i, n in enumerate(names) if n.startswith(ADMIN_PREFIX)]
                age.insert(admins_at[-1] + 1 if admins_at else 0, admin)
                regex = rule.get("path_regex")
                changed.append(str(regex) if regex is not None else None)
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
        _model(path, _load(data)[0])
        _check_with_engine(data, path)
        return Edit(data, Change(path, True, created=True, added_keys=(anchor,)))
    d = _Doc(existing, path)
    found = d.anchored(anchor)
    if found is not None:
        current = str(found[2]).strip().lower()
        if current == recipient:
            return Edit(None, Change(path, False))
        raise UserError(
            f"admin {admin_name} already has a different key in {SOPS_YAML}",
            hint="pick another --admin-name, or edit the admin key in .sops.yaml by hand",
        )
    for other in d.admin_nodes():
        if str(other).strip().lower() == recipient:
            taken = (_anchor(other) or "")[len(ADMIN_PREFIX) :]
            raise UserError(
                f"this key is already admin {taken} in {SOPS_YAML}",
                hint=f"run with --admin-name {taken}, or pass another key",
            )
    node = _new_anchored(recipient, anchor)
    keys = d.keys_list()
    admins_at = [i for i, n in enumerate(keys) if (_anchor(n) or "").startswith(ADMIN_PREFIX)]
    _insert_item(keys, admins_at[-1] + 1 if admins_at else 0, node)
    changed_rules = _add_admin_alias_to_host_rules(d, node)
    return d.render(Change(path, True, added_keys=(anchor,), changed_rules=tuple(changed_rules)))


def _refuse_shared_key(d: _Doc, recipient: str, anchor: str) -> None:
    """A host key that is already another host's (or an admin's) would let that host
    read this host's secrets: a copied .pub file is the usual cause."""
    for node in d.keys_list():
        other = _anchor(node) or ""
        if other != anchor and str(node).strip().lower() == recipient:
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


def add_host_text(data: bytes, name: str, recipient: str, path: Path) -> Edit:
    """Add ``&host_<name>`` and its creation rule (admins + host) before any catch-all."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

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
        node = found[2]
        if str(node).strip().lower() != recipient:
            raise UserError(
                f"host {name} already has a different key in {SOPS_YAML}",
                hint=f"to replace it run `secretkit rotate host {name} --age …`",
            )
    else:
        node = _new_anchored(recipient, anchor)
        keys = d.keys_list()
        hosts_at = [i for i, n in enumerate(keys) if (_anchor(n) or "").startswith(HOST_PREFIX)]
        _insert_item(keys, hosts_at[-1] + 1 if hosts_at else len(keys), node)
        added_keys = (anchor,)
    regex = host_rule_regex(name)
    rules = d.rules()
    existing = next((r for r in rules if hasattr(r, "get") and r.get("path_regex") == regex), None)
    added_rules: tuple[str, ...] = ()
    if existing is not None:
        if not _inside(existing, node):
            raise UserError(
                f"the creation rule for {host_secrets_path(name)} does not list host {name}",
                hint=f"add *{anchor} to that rule in {SOPS_YAML} by hand",
            )
        relpath = host_secrets_path(name)
        first = next(i for i, r in enumerate(rules) if _rule_matches(r, relpath) or r is existing)
        if rules[first] is not existing:
            raise UserError(
                f"creation rule {first + 1} of {SOPS_YAML} matches {relpath} before its own "
                f"rule, so host {name} could not decrypt it",
                hint=f"move the rule for {relpath} above rule {first + 1}",
            )
    else:
        age = CommentedSeq([*admins, node])
        if _flow_like_existing(d.doc):
            age.fa.set_flow_style()
        group = CommentedMap()
        group["age"] = age
        rule = CommentedMap()
        rule["path_regex"] = regex
        rule["key_groups"] = CommentedSeq([group])
        relpath = host_secrets_path(name)
        position = next((i for i, r in enumerate(rules) if _rule_matches(r, relpath)), len(rules))
        _insert_item(rules, position, rule)
        added_rules = (regex,)
    if not added_keys and not added_rules:
        return Edit(None, Change(path, False))
    return d.render(
        Change(
            path,
            True,
            added_keys=added_keys,
            added_rules=added_rules,
            new_recipient=recipient,
        )
    )


def _inside(tree: Any, container: Any) -> bool:
    if tree is container:
        return True
    if isinstance(tree, dict):
        return any(_inside(v, container) for v in tree.values())
    if isinstance(tree, list):
        return any(_inside(v, container) for v in tree)
    return False


def _rule_matches(rule: Any, relpath: str) -> bool:
    if not hasattr(rule, "get"):
        return False
    regex = rule.get("path_regex")
    if regex is None:
        return True
    try:
        return re.search(str(regex), relpath) is not None
    except re.error:
        return False


def remove_host_text(data: bytes, name: str, path: Path) -> Edit:
    """Drop ``&host_<name>``, its rule, and the alias wherever it is used."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    validate_name(name)
    d = _Doc(data, path)
    anchor = HOST_PREFIX + name
    regex = host_rule_regex(name)
    found = d.anchored(anchor)
    rules = d.doc.get("creation_rules")
    own_rules = [
        i for i, r in enumerate(rules or []) if hasattr(r, "get") and r.get("path_regex") == regex
    ]
    if found is None and not own_rules:
        return Edit(None, Change(path, False))
    old = str(found[2]).strip().lower() if found is not None else None
    removed_rules: list[str | None] = []
    for i in reversed(own_rules):
        _delete_item(rules, i, d.doc, "creation_rules")
        removed_rules.append(regex)
    touched: list[Any] = []  # rules that lose the host's key (by identity)

    def touch(rule: Any) -> None:
        if rule is not None and not any(rule is t for t in touched):
            touched.append(rule)

    if found is not None:
        node = found[2]
        for container, key in d.occurrences(node):
            if container is found[0]:
                continue
            touch(_rule_of(rules, container))
            if isinstance(container, CommentedSeq):
                _delete_item(container, key)
            elif isinstance(container, CommentedMap):
                del container[key]
    if old is not None:
        # the same key written out instead of aliased (a list item or sops' "a,b" string)
        for rule in rules or []:
            for holder in _age_holders(rule):
                value = holder.get("age")
                if isinstance(value, CommentedSeq):
                    for j in reversed(range(len(value))):
                        item = value[j]
                        if isinstance(item, str) and item.strip().lower() == old:
                            _delete_item(value, j)
                            touch(rule)
                elif isinstance(value, str) and not _anchor(value):
                    parts = [p.strip() for p in value.split(",") if p.strip()]
                    kept = [p for p in parts if p.lower() != old]
                    if len(kept) != len(parts):
                        touch(rule)
                        if kept:
                            holder["age"] = ",".join(kept)
                        else:
                            del holder["age"]
    # groups and rules left without any key go too
    for rule in touched:
        groups = rule.get("key_groups")
        if isinstance(groups, CommentedSeq):
            for g in reversed(range(len(groups))):
                group = groups[g]
                if isinstance(group, CommentedMap) and not any(group.get(k) for k in group):
                    _delete_item(groups, g)
            empty = not len(groups)
        else:
            empty = not any(rule.get(k) for k in _KEY_FIELDS)
        if empty:
            index = next(i for i, r in enumerate(rules) if r is rule)
            removed_rules.append(_regex_of(rule))
            _delete_item(rules, index, d.doc, "creation_rules")
    if found is not None:
        keys_container, index, _ = found
        parent, parent_key = _parent_of(d.doc, keys_container)
        _delete_item(keys_container, index, parent, parent_key)
    gone = {id(r) for r in touched if not any(r is x for x in rules or [])}
    changed_rules = [_regex_of(r) for r in touched if id(r) not in gone]
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


_KEY_FIELDS = ("age", "pgp", "kms", "gcp_kms", "azure_keyvault", "hc_vault_transit_uri", "hckms")


def _age_holders(rule: Any) -> list[Any]:
    """The mappings of a rule that can hold an ``age:`` entry: the rule or its groups."""
    if not hasattr(rule, "get"):
        return []
    groups = rule.get("key_groups")
    holders = [g for g in groups if hasattr(g, "get")] if isinstance(groups, list) else []
    return [rule, *holders]


def _parent_of(doc: Any, container: Any) -> tuple[Any, Any]:
    keys = doc.get("keys")
    if keys is container:
        return doc, "keys"
    if isinstance(keys, dict):
        for k, v in keys.items():
            if v is container:
                return keys, k
    return None, None


def _rule_of(rules: Any, container: Any) -> Any:
    for rule in rules or []:
        if _inside(rule, container):
            return rule
    return None


def _regex_of(rule: Any) -> str | None:
    regex = rule.get("path_regex") if hasattr(rule, "get") else None
    return str(regex) if regex is not None else None


def set_host_key_text(data: bytes, name: str, recipient: str, path: Path) -> Edit:
    """Replace the key of ``&host_<name>``; every alias follows (for ``rotate host``)."""
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
    if str(old).strip().lower() == recipient:
        return Edit(None, Change(path, False))
    _refuse_shared_key(d, recipient, anchor)
    new = _new_anchored(recipient, anchor)
    places = d.occurrences(old)
    rules = d.doc.get("creation_rules")
    changed_rules: list[str | None] = []
    for container, key in places:
        comment = container.ca.items.get(key) if hasattr(container, "ca") else None
        container[key] = new
        if comment is not None:
            container.ca.items[key] = comment
        rule = _rule_of(rules, container)
        if rule is not None:
            changed_rules.append(_regex_of(rule))
    return d.render(
        Change(
            path,
            True,
            changed_rules=tuple(dict.fromkeys(changed_rules)),
            old_recipient=str(old).strip().lower(),
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
    from secretkit.atomic import write_atomic

    if edit.data is not None:
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
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

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
    rules = d.rules()
    wanted = {str(n).strip().lower() for n in nodes}
    for rule in rules:
        if hasattr(rule, "get") and rule.get("path_regex") == regex:
            have = {str(n).strip().lower() for n in _age_holders_flat(rule)}
            if have != wanted:
                raise UserError(
                    f"the creation rule {regex} in {SOPS_YAML} names other keys",
                    hint="fix that rule by hand or remove it, then run again",
                )
            return Edit(None, Change(path, False))
    age = CommentedSeq(nodes)
    if _flow_like_existing(d.doc):
        age.fa.set_flow_style()
    group = CommentedMap()
    group["age"] = age
    rule = CommentedMap()
    rule["path_regex"] = regex
    rule["key_groups"] = CommentedSeq([group])
    relpath = regex.strip("^$").replace("\\", "")
    position = next((i for i, r in enumerate(rules) if _rule_matches(r, relpath)), len(rules))
    _insert_item(rules, position, rule)
    return d.render(Change(path, True, added_rules=(regex,)))


def _age_holders_flat(rule: Any) -> list[Any]:
    out: list[Any] = []
    for holder in _age_holders(rule):
        out.extend(_age_values(holder.get("age")))
    return out
