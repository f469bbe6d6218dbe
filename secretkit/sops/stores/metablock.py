"""The ``sops`` metadata block: tree ↔ :class:`Metadata`, layouts per writing version.

* ≤ 3.12: Go struct order; files written by ≤ 3.9 also carry empty key lists
  (kept when the file being rewritten had them: :attr:`Metadata.source_order`).
* 3.13: alphabetical keys, age entries ``enc`` then ``recipient``.
* dotenv/INI flatten the block (``parent__map_child``, ``parent__list_<i>``).
"""

from __future__ import annotations

import re

from secretkit.errors import UserError
from secretkit.lazy_re import lazy
from secretkit.sops.metadata import CRYPT_RULES, KEY_KINDS, CryptRule, KeyEntry, Metadata
from secretkit.sops.tree import Comment, Map, Seq, Value

STRUCT_ORDER = (
    "shamir_threshold", "key_groups", "kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age",
    "lastmodified", "mac", "pgp", *CRYPT_RULES, "mac_only_encrypted", "version",
)  # fmt: skip
GROUP_STRUCT_ORDER = ("pgp", "kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age")
ENTRY_ORDER = {
    "age": ("recipient", "enc"),
    "pgp": ("created_at", "enc", "fp"),
    "kms": ("arn", "role", "context", "created_at", "enc", "aws_profile"),
    "gcp_kms": ("resource_id", "created_at", "enc"),
    "hckms": ("key_id", "created_at", "enc"),
    "azure_kv": ("vault_url", "name", "version", "created_at", "enc"),
    "hc_vault": ("vault_address", "engine_path", "key_name", "created_at", "enc"),
}


def version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split("."):
        m = re.match(r"\d+", piece)
        parts.append(int(m.group(0)) if m else 0)
    return tuple(parts) if parts else (0,)


def is_alphabetical(version: str) -> bool:
    return version_tuple(version) >= (3, 13)


def _bad(message: str) -> UserError:
    return UserError(f"malformed sops metadata: {message}", hint="restore the file from git")


def _scalar_text(value: Value, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise _bad(f"{name} must be a string")


def _entries(kind: str, value: Value) -> list[KeyEntry]:
    if value is None:
        return []
    if not isinstance(value, Seq):
        raise _bad(f"{kind} must be a list")
    out = []
    for item in value:
        if isinstance(item, Comment):
            continue
        if not isinstance(item, Map):
            raise _bad(f"{kind} entries must be mappings")
        fields: dict[str, str] = {}
        nested: dict[str, object] = {}
        for entry in item:
            if isinstance(entry, tuple):
                key, child = entry
                if isinstance(child, (Map, Seq)):
                    nested[key] = child  # e.g. a KMS context: kept verbatim
                    continue
                fields[key] = _scalar_text(child, f"{kind}.{key}")
        out.append(KeyEntry(kind, fields, nested))
    return out


def from_tree(block: Value) -> Metadata:
    """Parse a (nested) metadata block; UserError on a malformed one."""
    if not isinstance(block, Map):
        raise _bad("the sops entry is not a mapping")
    meta = Metadata(crypt_rule=None)
    meta.source_order = tuple(block.keys())
    rules: list[CryptRule] = []
    single_group: list[KeyEntry] = []
    for entry in block:
        if isinstance(entry, Comment):
            continue
        key, value = entry
        if key in KEY_KINDS:
            single_group.extend(_entries(key, value))
        elif key == "key_groups":
            if value is None:
                continue
            if not isinstance(value, Seq):
                raise _bad("key_groups must be a list")
            meta.explicit_key_groups = True
            for group in value:
                if isinstance(group, Comment):
                    continue
                if not isinstance(group, Map):
                    raise _bad("key_groups entries must be mappings")
                entries: list[KeyEntry] = []
                for kind in KEY_KINDS:
                    index = group.find(kind)
                    if index >= 0:
                        pair = group[index]
                        assert isinstance(pair, tuple)
                        entries.extend(_entries(kind, pair[1]))
                meta.key_groups.append(entries)
        elif key == "shamir_threshold":
            text = _scalar_text(value, key)
            try:
                meta.shamir_threshold = int(text) if text else 0
            except ValueError:
                raise _bad("shamir_threshold must be an integer") from None
        elif key in ("lastmodified", "mac", "version"):
            setattr(meta, key, _scalar_text(value, key))
        elif key in CRYPT_RULES:
            text = _scalar_text(value, key)
            if text:
                rules.append(CryptRule(key, text))
        elif key == "mac_only_encrypted":
            text = _scalar_text(value, key).lower()
            if text not in ("true", "false", "1", "0", "t", "f", ""):
                raise _bad("mac_only_encrypted must be a boolean")
            meta.mac_only_encrypted = text in ("true", "1", "t")
        else:
            meta.extra[key] = value
    if single_group:
        if meta.key_groups:
            meta.key_groups[0][:0] = single_group
        else:
            meta.key_groups.append(single_group)
    if len(rules) > 1:
        raise UserError(
            "malformed sops metadata: more than one crypt rule "
            f"({', '.join(rule.kind for rule in rules)})",
            hint="a sops file may set at most one of the *_suffix / *_regex rules",
        )
    meta.crypt_rule = rules[0] if rules else None
    return meta


def _entry_map(entry: KeyEntry, alphabetical: bool) -> Map:
    values: dict[str, Value] = dict(entry.fields)
    for name, nested in entry.nested.items():
        if isinstance(nested, (Map, Seq)):
            values[name] = nested
    if alphabetical:
        names = sorted(values)
    else:
        order = ENTRY_ORDER.get(entry.kind, ())
        names = [n for n in order if n in values] + [n for n in values if n not in order]
    return Map((name, values[name]) for name in names)


def _kind_lists(group: list[KeyEntry]) -> dict[str, list[KeyEntry]]:
    lists: dict[str, list[KeyEntry]] = {}
    for entry in group:
        lists.setdefault(entry.kind, []).append(entry)
    return lists


def to_tree(meta: Metadata, *, null_empty_lists: bool = False) -> Map:
    """The metadata block in the layout of ``meta.version`` (nested form).

    ``null_empty_lists``: JSON files by ≤ 3.12 wrote empty lists as ``null``.
    """
    alphabetical = is_alphabetical(meta.version)
    empty: Value = None if (null_empty_lists and not alphabetical) else Seq()
    fields: dict[str, Value] = {}
    groups = [group for group in meta.key_groups]
    if len(groups) >= 2:  # sops writes a single group as plain key lists
        group_seq = Seq()
        for group in groups:
            lists = _kind_lists(group)
            group_map = Map()
            names = sorted(GROUP_STRUCT_ORDER) if alphabetical else list(GROUP_STRUCT_ORDER)
            for kind in names:
                entries = lists.get(kind, [])
                if entries:
                    group_map.append((kind, Seq(_entry_map(e, alphabetical) for e in entries)))
                elif kind in ("age", "hc_vault"):
                    group_map.append((kind, Seq() if alphabetical else empty))
            group_seq.append(group_map)
        fields["key_groups"] = group_seq
    else:
        lists = _kind_lists(groups[0]) if groups else {}
        for kind in KEY_KINDS:
            entries = lists.get(kind, [])
            if entries:
                fields[kind] = Seq(_entry_map(e, alphabetical) for e in entries)
            elif kind in meta.source_order:
                fields[kind] = empty
    threshold = meta.shamir_threshold or (len(groups) if len(groups) >= 2 else 0)
    if threshold:
        fields["shamir_threshold"] = threshold
    fields["lastmodified"] = meta.lastmodified
    fields["mac"] = meta.mac
    if meta.crypt_rule is not None:
        fields[meta.crypt_rule.kind] = meta.crypt_rule.value
    if meta.mac_only_encrypted:
        fields["mac_only_encrypted"] = True
    fields["version"] = meta.version
    for key, value in meta.extra.items():
        if (
            isinstance(value, (Map, Seq))
            or value is None
            or isinstance(value, (str, int, float, bool))
        ):
            fields[key] = value
    if alphabetical:
        names = sorted(fields)
    else:
        known = [name for name in STRUCT_ORDER if name in fields]
        names = known + [name for name in fields if name not in STRUCT_ORDER]
    return Map((name, fields[name]) for name in names)


# --- flattening (dotenv, INI) --------------------------------------------------------


def flatten(value: Value, prefix: str = "") -> list[tuple[str, str]]:
    """``stores/flatten.go``: maps → ``__map_``, lists → ``__list_<i>``, leaves → text."""
    out: list[tuple[str, str]] = []
    if isinstance(value, Map):
        for entry in value:
            if isinstance(entry, tuple):
                key, child = entry
                name = f"{prefix}__map_{key}" if prefix else key
                if isinstance(child, (Map, Seq)):
                    out.extend(flatten(child, name))
                elif child is not None:
                    out.append((name, _scalar_text(child, name)))
    elif isinstance(value, Seq):
        for index, child in enumerate(c for c in value if not isinstance(c, Comment)):
            name = f"{prefix}__list_{index}"
            if isinstance(child, (Map, Seq)):
                out.extend(flatten(child, name))
            elif child is not None:
                out.append((name, _scalar_text(child, name)))
    return out


_PART = lazy(r"__(map|list)_")


def unflatten(pairs: list[tuple[str, str]]) -> Map:
    """Inverse of :func:`flatten` (lists ordered by index)."""
    root: dict[str, object] = {}
    order: list[str] = []
    for name, text in pairs:
        pieces = _PART.split(name)
        head, rest = pieces[0], pieces[1:]
        path: list[tuple[str, str]] = [("map", head)]
        for i in range(0, len(rest), 2):
            path.append((rest[i], rest[i + 1]))
        node: dict[str, object] = root
        if head not in order:
            order.append(head)
        for depth, (kind, key) in enumerate(path):
            last = depth == len(path) - 1
            slot = key if kind == "map" else f"\0{int(key) if key.isdigit() else key}"
            if last:
                node[slot] = text
            else:
                child = node.setdefault(slot, {})
                if not isinstance(child, dict):
                    raise _bad(f"conflicting flattened key {name[:60]}")
                node = child
    return _to_map(root)  # type: ignore[return-value]


def _to_map(node: object) -> Value:
    if not isinstance(node, dict):
        return str(node)
    keys = list(node)
    if keys and all(k.startswith("\0") for k in keys):

        def index(k: str) -> int:
            body = k[1:]
            return int(body) if body.isdigit() else 10**9

        return Seq(_to_map(node[k]) for k in sorted(keys, key=index))
    return Map((k.lstrip("\0"), _to_map(v)) for k, v in node.items())
