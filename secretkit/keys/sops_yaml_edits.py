"""The edits of ``.sops.yaml``, each done by splicing spans of the one parse.

Pure functions (bytes in, :class:`Edit` out; ``Edit.data`` is None when nothing
changes) for callers that write inside a :class:`~secretkit.atomic.Transaction`, and
writers that apply them::

    init_text(existing: bytes | None, admin_name, recipient, path) -> Edit
    add_host_text(data: bytes, name, recipient, path) -> Edit
    remove_host_text(data: bytes, name, path) -> Edit
    set_host_key_text(data: bytes, name, recipient, path) -> Edit   # for `rotate host`
    add_rule_text(data: bytes, regex, anchors, path) -> Edit        # for `import agenix`
    init(root, recipient, admin_name) / add_host(root, name, recipient) /
    remove_host(root, name) / set_host_key(root, name, recipient) -> Change

(``path`` is the ``.sops.yaml`` path, used in results and for the engine's check.)
Everything else the user wrote (comments, order, other anchors and rules, merge keys)
is kept; the new text is re-parsed and validated before it replaces the old one
atomically (:meth:`~secretkit.keys.sops_yaml_doc.SopsYamlDoc.render`).  Every edit is
idempotent (a second run returns ``changed=False`` and writes nothing); a malformed
file or a name clash raises a :class:`~secretkit.errors.ConfigError`/
:class:`~secretkit.errors.UserError` with a one-line message and leaves the file alone.
Removing an entry drops its same-line comment; full-line comments around it stay.

:class:`Change` says what changed (anchors and rules added/removed, rules whose
recipients changed and whose files therefore need ``updatekeys``, the old and new
recipient) so that removal/rotation can re-encrypt the affected files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from secretkit.atomic import refuse_links, write_atomic
from secretkit.errors import ConfigError, UserError
from secretkit.keys.sops_yaml import SOPS_YAML, age_values, validate_name
from secretkit.keys.sops_yaml_doc import (
    KEY_FIELDS,
    SopsYamlDoc,
    add_admin_alias_to_host_rules,
    anchor_map,
    insert_rule,
    keys_every_rule_lists,
    regex_of,
    rule_groups,
    rule_matches,
    uses,
    validate,
)
from secretkit.layouts import sops_nix
from secretkit.sops.config import SopsConfig
from secretkit.sops.keysources.bech32 import normalize_age_recipient
from secretkit.sops.yaml_spans import Node, value_span


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


def _finish(d: SopsYamlDoc, change: Change) -> Edit:
    rendered = d.render()
    if rendered is None:
        return Edit(None, Change(path=d.path, changed=False))
    data, config = rendered
    return Edit(data, change, config)


def _recipient(text: str) -> str:
    return normalize_age_recipient(text)


def init_text(existing: bytes | None, admin_name: str, recipient: str, path: Path) -> Edit:
    """Create the file with one admin, or add the admin to an existing file."""
    validate_name(admin_name, "admin")
    recipient = _recipient(recipient)
    anchor = sops_nix.admin_anchor(admin_name)
    if existing is None or not existing.strip():
        text = (
            "# sops creation rules, managed by secretkit (comments and order are kept).\n"
            "# Hosts are added with `secretkit hosts add NAME --ssh-pubkey-file FILE`.\n"
            "keys:\n"
            f"  - &{anchor} {recipient}\n"
            "creation_rules: []\n"
        )
        data = text.encode()
        config = validate(data, path)
        return Edit(data, Change(path, True, created=True, added_keys=(anchor,)), config)
    d = SopsYamlDoc(existing, path)
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
            taken = sops_nix.admin_of_anchor(other.anchor or "")
            raise UserError(
                f"this key is already admin {taken} in {SOPS_YAML}",
                hint=f"run with --admin-name {taken}, or pass another key",
            )
    for _, _, node in d.key_items():  # (a hand-written anchor: a second one would double it)
        if node.value.strip().lower() == recipient and not sops_nix.is_host_anchor(node.anchor):
            named = f"&{node.anchor}" if node.anchor else "an entry without an anchor"
            raise UserError(
                f"this key is already in {SOPS_YAML} as {named}; secretkit reads admins from "
                "&admin_<name> anchors",
                hint=f"if it is your admin key, rename {named} to &{anchor} (and its aliases "
                f"to *{anchor}) in {SOPS_YAML}; nothing else changes",
            )
    keys = d.keys_list()
    items = keys.items if keys is not None else []
    admins_at = [i for i, n in enumerate(items) if sops_nix.is_admin_anchor(n.anchor)]
    d.insert_item(keys, admins_at[-1] + 1 if admins_at else 0, f"&{anchor} {recipient}", "keys")
    changed_rules = add_admin_alias_to_host_rules(d, anchor)
    return _finish(d, Change(path, True, added_keys=(anchor,), changed_rules=tuple(changed_rules)))


def _refuse_shared_key(d: SopsYamlDoc, recipient: str, anchor: str) -> None:
    """A host key that is already another host's (or an admin's) would let that host
    read this host's secrets: a copied .pub file is the usual cause."""
    for _, _, node in d.key_items():
        other = node.anchor or ""
        if other != anchor and node.value.strip().lower() == recipient:
            if sops_nix.is_host_anchor(other):
                whose = f"host {sops_nix.host_of_anchor(other)}"
            elif sops_nix.is_admin_anchor(other):
                whose = f"admin {sops_nix.admin_of_anchor(other)}"
            else:
                whose = f"&{other}" if other else "an unnamed entry"
            own = (
                "use this host's own /etc/ssh/ssh_host_ed25519_key.pub "
                "(ssh-keyscan -t ed25519 HOST)"
            )
            if other and whose == f"&{other}":  # a hand-written anchor may be this host's
                own = (
                    f"if &{other} is this host's key, rename it to &{anchor} in {SOPS_YAML} "
                    f"(its aliases too); else {own}"
                )
            raise UserError(
                f"this key is already the key of {whose} in {SOPS_YAML}; "
                "each host needs its own key",
                hint=own,
            )


def _hand_written_host(d: SopsYamlDoc, name: str, recipient: str) -> bool:
    """Whether host ``name`` already has ``recipient`` in a hand-written file: an anchor
    spelled like the host (``&rss_server``, :func:`~secretkit.layouts.sops_nix.host_key`)
    holds it, and the rule sops applies to ``secrets/<name>.yaml`` names that anchor."""
    anchors = {
        n.anchor: n.value.strip().lower()
        for _, _, n in d.key_items()
        if n.anchor and not sops_nix.is_admin_anchor(n.anchor)
    }
    if sops_nix.host_key({}, anchors, name) != recipient:
        return False
    relpath = sops_nix.host_secrets_path(name)
    rule = next((r for r in d.rules() if rule_matches(r, relpath)), None)
    return rule is not None and any(
        uses(rule, anchor) for anchor, value in anchors.items() if value == recipient
    )


def _replace_written_out(d: SopsYamlDoc, old: str, new: str) -> list[str | None]:
    """Splice ``new`` in place of ``old`` wherever a rule's ``age`` names it by value
    (a list item, or within a comma-separated string); the rules changed."""
    import re

    pattern = re.compile(re.escape(old), re.IGNORECASE)
    changed: list[str | None] = []
    for rule in d.rules():
        for holder in [rule, *rule_groups(rule)]:
            node = holder.get("age") if holder.kind == "map" else None
            items = [node] if node is not None and node.kind == "scalar" else []
            items += node.items if node is not None and node.kind == "seq" else []
            for item in items:
                if item.kind != "scalar" or not pattern.search(item.value):
                    continue
                start, end = value_span(d.text, item)
                d.splice(start, end, pattern.sub(new, d.text[start:end]))
                changed.append(regex_of(rule))
    return changed


def _hand_written_anchor(d: SopsYamlDoc, name: str) -> str | None:
    """The anchor a hand-written file gives host ``name`` (spelled like the host, as
    :func:`~secretkit.layouts.sops_nix.host_key` reads it; what ``hosts list`` shows)."""
    anchors = {
        n.anchor: n.value.strip().lower()
        for _, _, n in d.key_items()
        if n.anchor and not sops_nix.is_admin_anchor(n.anchor)
    }
    recipient = sops_nix.host_key({}, anchors, name)
    return next((a for a, v in anchors.items() if v == recipient), None) if recipient else None


def _catch_all(rule: Node, name: str) -> bool:
    """Whether ``rule`` is for other hosts' files too (``secrets/[^/]+\\.yaml$``), not
    the user's own rule for host ``name``'s."""
    return rule_matches(rule, sops_nix.host_secrets_path(f"{name}-another-host"))


def _lists(d: SopsYamlDoc, rule: Node, recipient: str) -> bool:
    """Whether ``rule`` lists ``recipient``, itself or through an anchor."""
    anchors = anchor_map(d)
    for node in rule.walk():
        if node.kind == "alias" and node.anchor in anchors:
            node = anchors[node.anchor]
        if node.kind == "scalar" and recipient in node.value.lower():
            return True
    return False


def add_host_text(data: bytes, name: str, recipient: str, path: Path) -> Edit:
    """Add ``&host_<name>`` and its creation rule (admins + host) before any catch-all."""
    validate_name(name)
    recipient = _recipient(recipient)
    d = SopsYamlDoc(data, path)
    anchor = sops_nix.host_anchor(name)
    found = d.anchored(anchor)
    if found is None and _hand_written_host(d, name, recipient):
        return Edit(None, Change(path, False))  # present under the user's own anchor
    admins = d.admin_nodes()
    if not admins:
        raise no_admin_key(d)
    added_keys: tuple[str, ...] = ()
    _refuse_shared_key(d, recipient, anchor)
    if found is not None:
        if found[2].value.strip().lower() != recipient:
            raise UserError(
                f"host {name} already has a different key in {SOPS_YAML}",
                hint=f"to replace it run `secretkit rotate host {name} --age …`",
            )
    else:
        keys = d.keys_list()
        items = keys.items if keys is not None else []
        hosts_at = [i for i, n in enumerate(items) if sops_nix.is_host_anchor(n.anchor)]
        d.insert_item(
            keys, hosts_at[-1] + 1 if hosts_at else len(items), f"&{anchor} {recipient}", "keys"
        )
        added_keys = (anchor,)
    regex = sops_nix.host_rule_regex(name)
    rules = d.rules()
    existing = next((r for r in rules if regex_of(r) == regex), None)
    added_rules: tuple[str, ...] = ()
    relpath = sops_nix.host_secrets_path(name)
    if existing is not None:
        if not uses(existing, anchor):
            raise UserError(
                f"the creation rule for {relpath} does not list host {name}",
                hint=f"add *{anchor} to that rule in {SOPS_YAML} by hand",
            )
        first = next(i for i, r in enumerate(rules) if rule_matches(r, relpath) or r is existing)
        if rules[first] is not existing:
            raise UserError(
                f"creation rule {first + 1} of {SOPS_YAML} matches {relpath} before its own "
                f"rule, so host {name} could not decrypt it",
                hint=f"move the rule for {relpath} above rule {first + 1}",
            )
    else:
        aliases = [f"*{n.anchor}" for n in admins]
        # and whoever every rule lists: the owner's own keys in a hand-written file
        # (PGP fingerprints, an age key with no &admin_ anchor) read this file too
        values = {n.anchor: n.value.strip().lower() for _, _, n in d.key_items() if n.anchor}
        held = {n.value.strip().lower() for n in admins}  # (an admin listed by value too)
        aliases += [
            k
            for k in keys_every_rule_lists(d)
            if k not in aliases and values.get(k[1:], k.lower()) not in held
        ]
        aliases.append(f"*{anchor}")
        position = next((i for i, r in enumerate(rules) if rule_matches(r, relpath)), len(rules))
        if position < len(rules) and not _catch_all(rules[position], name):
            # the user's own rule for this file: one added ahead of it would shadow it
            if _lists(d, rules[position], recipient):
                return Edit(None, Change(path, False))
            then = (
                f", then run `secretkit updatekeys {relpath}`"
                if (path.parent / relpath).is_file()
                else ""
            )
            raise UserError(
                f"creation rule {position + 1} of {SOPS_YAML} is the rule for {relpath} "
                f"and does not list host {name}'s key",
                hint=f"add {recipient} to the age keys of that rule by hand{then} (a rule "
                "added ahead of yours would leave it unused)",
            )
        insert_rule(d, position, regex, aliases)
        added_rules = (regex,)
    if not added_keys and not added_rules:
        return Edit(None, Change(path, False))
    return _finish(
        d,
        Change(path, True, added_keys=added_keys, added_rules=added_rules, new_recipient=recipient),
    )


def _empty(node: Node, gone: set[int]) -> bool:
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
    d = SopsYamlDoc(data, path)
    anchor = sops_nix.host_anchor(name)
    regex = sops_nix.host_rule_regex(name)
    found = d.anchored(anchor)
    rules = d.rules()
    own = [i for i, r in enumerate(rules) if regex_of(r) == regex]
    if found is None and not own:
        return Edit(None, Change(path, False))
    old = found[2].value.strip().lower() if found is not None else None
    drop_rules = set(own)
    removed_rules: list[str | None] = [regex] * len(own)
    changed_rules: list[str | None] = []
    # what to splice inside the rules that stay: (rule, (gone, rewrite, empty groups))
    later: list[tuple[Node, tuple[set[int], list[tuple[Node, str | None]], list[Node]]]] = []

    for i, rule in enumerate(rules):
        if i in drop_rules or rule.kind != "map":
            continue
        gone: set[int] = set()  # ids of nodes (list items, pair values) that go
        rewrite: list[tuple[Node, str | None]] = []  # "a,b" strings that lose the key
        holders = [rule, *rule_groups(rule)]
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
        empty_groups = [g for g in rule_groups(rule) if all(_empty(v, gone) for _, v in g.pairs)]
        if groups_node is not None and groups_node.kind == "seq":
            empty = len(empty_groups) == len(groups_node.items)
        else:
            empty = all(_empty(v, gone) for k, v in rule.pairs if k.value in KEY_FIELDS)
        if empty:
            drop_rules.add(i)
            removed_rules.append(regex_of(rule))
            continue
        changed_rules.append(regex_of(rule))
        later.append((rule, (gone, rewrite, empty_groups)))

    rules_node = d.tree.get("creation_rules") if d.tree is not None else None
    if drop_rules and rules_node is not None:
        d.delete_items(
            rules_node, drop_rules, d.tree.key_node("creation_rules") if d.tree else None
        )
    for rule, (gone, rewrite, empty_groups) in later:
        _splice_rule(d, rule, gone, rewrite, empty_groups)
    if found is not None:
        keys_seq, index, _ = found
        keys_key = (
            d.tree.key_node("keys")
            if d.tree is not None and d.tree.get("keys") is keys_seq
            else None
        )
        d.delete_items(keys_seq, {index}, keys_key)
    return _finish(
        d,
        Change(
            path,
            True,
            removed_keys=(anchor,) if found is not None else (),
            removed_rules=tuple(removed_rules),
            changed_rules=tuple(changed_rules),
            old_recipient=old,
        ),
    )


def _splice_rule(
    d: SopsYamlDoc,
    rule: Node,
    gone: set[int],
    rewrite: list[tuple[Node, str | None]],
    empty_groups: list[Node],
) -> None:
    groups_node = rule.get("key_groups")
    dropped = {id(g) for g in empty_groups}
    if groups_node is not None and groups_node.kind == "seq" and dropped:
        d.delete_items(
            groups_node, {i for i, g in enumerate(groups_node.items) if id(g) in dropped}, None
        )
    for holder, is_item in [
        (rule, True),
        *((g, True) for g in rule_groups(rule) if id(g) not in dropped),
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
    validate_name(name)
    recipient = _recipient(recipient)
    d = SopsYamlDoc(data, path)
    anchor = sops_nix.host_anchor(name)
    found = d.anchored(anchor)
    if found is None:  # a hand-written anchor of the host (`&bingbong`, `&server_web`)
        anchor = _hand_written_anchor(d, name) or anchor
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
    changed_rules = [regex_of(r) for r in d.rules() if uses(r, anchor)]
    # a rule naming the old key by its value, not the anchor: it goes too, or the old key
    # would stay a reader of that rule's files (and "opens none of them" would be false)
    changed_rules += _replace_written_out(d, old.value.strip(), recipient)
    return _finish(
        d,
        Change(
            path,
            True,
            changed_rules=tuple(dict.fromkeys(changed_rules)),
            old_recipient=old.value.strip().lower(),
            new_recipient=recipient,
        ),
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


def no_admin_key(d: SopsYamlDoc) -> UserError:
    """The refusal where no ``&admin_<name>`` key is found: a key under an anchor of the
    user's own (``&me``) may be the admin's, renamed in place (``init --admin`` with
    that key refuses a second entry and says the same)."""
    own = [
        n.anchor
        for _, _, n in d.key_items()
        if n.anchor
        and not sops_nix.is_host_anchor(n.anchor)
        and not sops_nix.is_admin_anchor(n.anchor)
    ]
    if not own:
        return UserError(
            f"{SOPS_YAML} has no admin key", hint="run `secretkit init --admin age1…` first"
        )
    named = ", ".join(f"&{a}" for a in own[:4]) + (", …" if len(own) > 4 else "")
    first = own[0]
    return UserError(
        f"{SOPS_YAML} has no admin key (secretkit reads admins from &admin_<name> anchors)",
        hint=f"if one of {named} is your own key, rename it in {SOPS_YAML} (&{first} to "
        f"&admin_{first}, and its aliases *{first} to *admin_{first}); otherwise run "
        "`secretkit init --admin age1…` first",
    )


def add_rule_text(data: bytes, regex: str, anchors: Sequence[str], path: Path) -> Edit:
    """Add a creation rule ``path_regex: regex`` → the admins and the keys ``anchors``
    name (``host_<h>``), before any rule that would match first.  An existing rule with
    that regex must already list exactly those keys (else a clear refusal)."""
    d = SopsYamlDoc(data, path)
    admins = d.admin_nodes()
    if not admins:
        raise no_admin_key(d)
    nodes = list(admins)
    for name in anchors:
        found = d.anchored(name)
        if found is None:
            raise UserError(f"{SOPS_YAML} has no key &{name}", hint="secretkit hosts add it")
        nodes.append(found[2])
    wanted = {n.value.strip().lower() for n in nodes}
    rules = d.rules()
    for rule in rules:
        if regex_of(rule) == regex:
            have = {
                recipient.strip().lower()
                for group in [rule, *rule_groups(rule)]
                for field in ("age", "pgp")
                for recipient, _ in age_values(group.get(field), anchor_map(d))
            }
            if have != wanted:
                raise UserError(
                    f"the creation rule {regex} in {SOPS_YAML} names other keys",
                    hint="fix that rule by hand or remove it, then run again",
                )
            return Edit(None, Change(path, False))
    aliases = [f"*{n.anchor}" for n in nodes]
    relpath = regex.strip("^$").replace("\\", "")
    position = next((i for i, r in enumerate(rules) if rule_matches(r, relpath)), len(rules))
    insert_rule(d, position, regex, aliases)
    return _finish(d, Change(path, True, added_rules=(regex,)))
