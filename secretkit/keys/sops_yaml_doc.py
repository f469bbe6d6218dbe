"""A ``.sops.yaml`` being edited: its text, its span tree, the splices so far.

Edits never re-print the file: they find spans in the tree of the one parse
(:func:`secretkit.keys.sops_yaml.parse_tree`), splice text in or out in the style the
file already uses (indentation of its lists, flow or block ``age:`` lists), and
:meth:`SopsYamlDoc.render` re-parses the result and validates it — as the keys view and
as the engine's rules — before anything is written (pre-commit's ``migrate_config``
does the same).  The user's comments, quoting and blank lines outside the edited
spans stay byte for byte.
"""

from __future__ import annotations

from pathlib import Path

from secretkit.errors import ConfigError
from secretkit.keys.sops_yaml import (
    CONFIG_HINT,
    SOPS_YAML,
    check_shape,
    key_items,
    key_kind,
    model_of,
    parse_tree,
)
from secretkit.layouts import sops_nix
from secretkit.sops import yaml_spans
from secretkit.sops.config import SopsConfig, config_of_tree, path_regex_matches
from secretkit.sops.yaml_spans import (
    Node,
    Splice,
    column,
    dash_of,
    item_lines,
    line_end,
    line_start,
)

KEY_FIELDS = ("age", "pgp", "kms", "gcp_kms", "azure_keyvault", "hc_vault_transit_uri", "hckms")


class SopsYamlDoc:
    """A ``.sops.yaml`` being edited: its text, its span tree, the splices so far."""

    def __init__(self, data: bytes | None, path: Path) -> None:
        self.path = path
        self.original = data
        self.text = ""
        self.tree: yaml_spans.Node | None = None
        if data is not None and data.strip():
            self.tree = parse_tree(data)  # duplicate anchors, bad aliases: ConfigError
            check_shape(self.tree)
            self.text = data.decode("utf-8")
        if self.tree is not None and self.tree.kind != "map":
            self.tree = None
        self.splices: list[yaml_spans.Splice] = []

    # -- lookups -------------------------------------------------------------
    def key_items(self) -> list[tuple[Node, int, Node]]:
        """(list, index, scalar) of every scalar under ``keys`` (nested lists/maps too)."""
        return key_items(self.tree)

    def anchored(self, name: str) -> tuple[Node, int, Node] | None:
        return next((x for x in self.key_items() if x[2].anchor == name), None)

    def admin_nodes(self) -> list[Node]:
        return [n for _, _, n in self.key_items() if sops_nix.is_admin_anchor(n.anchor)]

    def keys_list(self) -> Node | None:
        """The list new anchors go to (None: there is no ``keys:`` yet).  Never a list
        a rule uses through an alias (``keys: &all`` with ``age: *all``): a key added
        there would be granted every file those rules cover."""
        tree = self.tree
        keys = tree.get("keys") if tree is not None else None
        if tree is None or keys is None:
            return None
        lists = [keys] if keys.kind == "seq" else []
        if keys.kind == "map":
            lists = [value for _, value in keys.pairs if value.kind == "seq"]
        if not lists:
            raise ConfigError(f"{SOPS_YAML}: keys has no list to add a key to", hint=CONFIG_HINT)
        aliased = {n.anchor for n in tree.walk() if n.kind == "alias"}
        free = [seq for seq in lists if seq.anchor is None or seq.anchor not in aliased]
        if free:
            return free[0]
        anchor = lists[0].anchor
        raise ConfigError(
            f"{SOPS_YAML}: the keys list is anchored (&{anchor}) and creation rules use it "
            f"(*{anchor}): a key added to it would be granted every file those rules cover",
            hint=f"in each rule, list the keys it grants (age: [*a, *b]) instead of *{anchor} "
            f"and remove &{anchor}; then run this again",
        )

    def rules(self) -> list[Node]:
        rules = self.tree.get("creation_rules") if self.tree is not None else None
        return list(rules.items) if rules is not None and rules.kind == "seq" else []

    # -- splices ---------------------------------------------------------------
    def splice(self, start: int, end: int, text: str) -> None:
        self.splices.append(Splice(start, end, text))

    def insert_item(self, seq: Node | None, index: int, item: str, parent_key: str) -> None:
        """Insert ``item`` (one line of YAML, no dash) at ``index`` of ``seq``.  The full-
        line comments above the item now at ``index`` stay above it."""
        text = self.text
        if seq is None:
            self.append_top(parent_key, [item])
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

    def append_top(self, key: str, items: list[str]) -> None:
        """Add a top-level ``key:`` with a block list of ``items`` (``keys`` goes first)."""
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

    def delete_items(self, seq: Node, indices: set[int], key: Node | None) -> None:
        """Delete items of a list; a list left empty becomes ``[]``."""
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

    def delete_pair(self, mapping: Node, index: int, is_item: bool) -> None:
        """Delete one key: value of a block mapping (the first key of a list item moves the
        next key up onto the dash line)."""
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
    def render(self) -> tuple[bytes, SopsConfig] | None:
        """The new bytes and the engine's reading of them, after the splices; None when
        nothing changes.  The new text must parse and load as rules (the keys view and
        the engine's) before anybody writes it."""
        try:
            text = yaml_spans.apply(self.text, self.splices)
        except ValueError:  # pragma: no cover - the edits are built not to overlap
            raise ConfigError(f"{SOPS_YAML}: conflicting edits", hint=CONFIG_HINT) from None
        data = text.encode("utf-8")
        if self.original is not None and data == self.original:
            return None
        return data, validate(data, self.path)


def validate(data: bytes, path: Path) -> SopsConfig:
    """Parse ``data`` once and check it both as the keys view and as the engine's rules
    (ConfigError when either refuses it); the engine's reading."""
    tree = parse_tree(data)
    model_of(path, tree)
    return config_of_tree(tree, path)


def regex_of(rule: Node) -> str | None:
    regex = rule.get("path_regex") if rule.kind == "map" else None
    return regex.value if regex is not None and regex.kind == "scalar" else None


def uses(node: Node, anchor: str) -> bool:
    return any(n.anchor == anchor for n in node.walk() if n.kind in ("alias", "scalar"))


def rule_groups(rule: Node) -> list[Node]:
    groups = rule.get("key_groups") if rule.kind == "map" else None
    return (
        [g for g in groups.items if g.kind == "map"]
        if groups is not None and groups.kind == "seq"
        else []
    )


def _seq_style(d: SopsYamlDoc) -> tuple[int, int]:
    """(dash offset, content offset) of block lists under a key, as this file writes them."""
    tree = d.tree
    for name in ("creation_rules", "keys"):
        key = tree.key_node(name) if tree is not None else None
        seq = tree.get(name) if tree is not None else None
        if key is not None and seq is not None and seq.kind == "seq" and not seq.flow and seq.items:
            base = column(d.text, key.start)
            dash = dash_of(d.text, seq.items[0])
            return column(d.text, dash) - base, column(d.text, seq.items[0].start) - base
    return 2, 4


def _flow_like_existing(d: SopsYamlDoc) -> bool:
    """Whether existing rules write ``age:`` lists of several keys in flow style
    ``[*a, *b]``.  A one-key list says nothing of a preference (secretkit writes the
    admins-only host-keys rule as ``[*admin]``), so it is not followed."""
    for rule in d.rules():
        for group in rule_groups(rule):
            age = group.get("age")
            if age is not None and age.kind == "seq" and len(age.items) > 1:
                return bool(age.flow)
    return False


def _nested_style(d: SopsYamlDoc) -> tuple[int, int, int, int]:
    """(dash, content) offsets of ``key_groups`` lists and of block ``age`` lists as the
    existing rules write them (the sops-nix README indents them less than the top)."""
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


def keys_every_rule_lists(d: SopsYamlDoc) -> list[str]:
    """The keys every creation rule lists (``*anchor`` for an anchored one, else its
    value), ``&host_`` keys left out: who reads every file — a hand-written file's admins
    (its owner's PGP and age keys), whatever they are called.  Empty without rules, and
    unless two rules name different readers (each host's own key in its own rule)."""
    recipients = {n.anchor: n.value for _, _, n in d.key_items() if n.anchor}
    listed: list[dict[str, str]] = []  # per rule: normalised value -> as written
    for rule in d.rules():
        found: dict[str, str] = {}
        for holder in [rule, *rule_groups(rule)]:
            for field in ("age", "pgp"):
                node = holder.get(field) if holder.kind == "map" else None
                items = node.items if node is not None and node.kind == "seq" else []
                if node is not None and node.kind == "scalar":
                    found.update({v.strip().lower(): v.strip() for v in node.value.split(",")})
                for item in items:
                    if item.kind == "alias" and item.anchor in recipients:
                        found[recipients[item.anchor].strip().lower()] = f"*{item.anchor}"
                    elif item.kind == "scalar" and item.value.strip():
                        found[item.value.strip().lower()] = item.value.strip()
        listed.append(found)
    if not listed:
        return []
    common = set.intersection(*(set(found) for found in listed))
    if all(set(found) == common for found in listed):
        # no two rules for different readers (one host's rules, or shared ones alone):
        # a host's own key would be among these, and it must not read another's file
        return []
    hosts = {v.strip().lower() for a, v in recipients.items() if sops_nix.is_host_anchor(a)}
    return [text for value, text in listed[0].items() if value in common - hosts]


def _rule_text(d: SopsYamlDoc, regex: str, aliases: list[str]) -> str:
    """A new per-host rule as a list item: its first line without the dash, the others
    indented relative to the item's content column, in the file's style.  Aliases of
    PGP keys go under ``pgp:`` in the same key group, the others under ``age:``."""
    g_o, g_q, a_o, a_q = _nested_style(d)
    recipients = {n.anchor: n.value for _, _, n in d.key_items() if n.anchor}
    kinds: dict[str, list[str]] = {"age": [], "pgp": []}
    for alias in aliases:  # (`*anchor`, or a key's value as a rule lists it)
        value = recipients.get(alias[1:], "") if alias.startswith("*") else alias
        kinds[key_kind(value)].append(alias)
    lines = [f"path_regex: {regex}", "key_groups:"]
    head = f"{' ' * g_o}-{' ' * max(1, g_q - g_o - 1)}"
    for field, listed in [(k, v) for k, v in kinds.items() if v]:
        if _flow_like_existing(d):
            lines.append(f"{head}{field}: [{', '.join(listed)}]")
        else:
            lines.append(f"{head}{field}:")
            gap = " " * max(1, a_q - a_o - 1)
            lines.extend(f"{' ' * (g_q + a_o)}-{gap}{alias}" for alias in listed)
        head = " " * g_q  # the group's next field
    return "\n".join(lines)


def insert_rule(d: SopsYamlDoc, position: int, regex: str, aliases: list[str]) -> None:
    """A rule ``path_regex: regex`` → one key group of ``aliases`` (``*anchor``)."""
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
        d.append_top("creation_rules", [item])
        return
    o, q = _seq_style(d)
    base = column(d.text, key.start)
    body = " " * (base + o) + "-" + " " * max(1, q - o - 1)
    body += item.replace("\n", "\n" + " " * (base + q))
    d.splice(key.end, line_end(d.text, rules.end), ":\n" + body + "\n")


def add_admin_alias_to_host_rules(d: SopsYamlDoc, anchor: str) -> list[str | None]:
    """Put a new admin into every per-host rule (rules listing a host_ key)."""
    changed: list[str | None] = []
    for rule in d.rules():
        for group in rule_groups(rule):
            age = group.get("age")
            if age is None or age.kind != "seq":
                continue
            names = [item.anchor or "" if item.kind == "alias" else "" for item in age.items]
            if any(sops_nix.is_host_anchor(n) for n in names) and anchor not in names:
                admins_at = [i for i, n in enumerate(names) if sops_nix.is_admin_anchor(n)]
                d.insert_item(age, admins_at[-1] + 1 if admins_at else 0, f"*{anchor}", "age")
                changed.append(regex_of(rule))
                break
    return changed


def rule_matches(rule: Node, relpath: str) -> bool:
    if rule.kind != "map":
        return False
    regex = regex_of(rule)
    return True if regex is None else path_regex_matches(regex, relpath)


def anchor_map(d: SopsYamlDoc) -> dict[str, Node]:
    return {n.anchor: n for _, _, n in d.key_items() if n.anchor}
