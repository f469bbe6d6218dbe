"""Secrets in Nix files, literal by literal, with attribute paths.

For every string literal (:func:`secretkit.nix.cst.strings`):

1. token formats anywhere in its literal text (Pushover/Syncthing only where the
   names around say so);
2. a secret-named attribute (``password``, ``user_key``, ``pskRaw`` …) with a
   literal value — the whole value, however weak ("hunter2" too);
3. secrets inside commands and flags (``--authkey=…``, ``echo '…'`` in a
   ``*Command`` option, SQL ``PASSWORD '…'``, ``user:pass@`` in URLs);
4. text written to ``environment.etc."x".text`` when some ``*File`` option of
   the same file reads ``/etc/x``.

Nothing from an interpolation (``${…}``) is ever reported, and neither is what
:func:`secretkit.scan.filters.not_secret` recognises.  Nix is never evaluated.
"""

from __future__ import annotations

import re
from typing import Any

from secretkit.nix.cst import NixString
from secretkit.scan import filters
from secretkit.scan.detectors import Context
from secretkit.scan.hits import (
    ALLOW_MARK,
    FREEFORM_RULES,
    KEYED_RULES,
    Hit,
    merge,
    token_hits,
)

# Attribute names under which strings are documentation or option metadata.
_META = frozenset(
    {"description", "example", "defaultText", "longDescription", "literalExample", "meta"}
)
# Function applications that pass their argument through unchanged (lib.mk*).
_WRAPPERS = re.compile(
    r"(?:^|\.)(?:mk(?:Default|Force|Override|OptionDefault|Before|After|If|"
    r"Merge|Order)|toString|optionalString)$"
)
_FILE_OPTION = re.compile(r"(?i)(?:file|path)$")


def _secret_valued(node: Any, binding_start: int) -> bool:
    """Whether a string node *is* its binding's value (through parentheses, if/else,
    lists, let/with bodies and lib.mk* wrappers), not an argument of some call."""
    child: Any = node
    parent: Any = node.parent
    while parent is not None:
        kind = parent.type
        if kind == "binding":
            return True
        if kind == "apply_expression":
            function = parent.child_by_field_name("function")
            if function is None or child == function:
                return False
            text = function.text.decode("utf-8", "replace")
            if not _WRAPPERS.search(text.split()[-1] if text.split() else text):
                return False
        elif kind not in (
            "parenthesized_expression",
            "if_expression",
            "list_expression",
            "let_expression",
            "with_expression",
            "assert_expression",
        ):
            return False
        if kind == "if_expression":
            condition = parent.child_by_field_name("condition")
            if condition is not None and condition == child:
                return False
        child = parent
        parent = parent.parent
    return False


def scan_nix(data: bytes) -> tuple[list[Hit], bool]:
    """Hits (byte offsets) in one Nix file, and whether the file had parse errors."""
    from secretkit.nix import cst

    tree = cst.parse(data)
    allowed_lines = {
        data.count(b"\n", 0, start) + 1
        for start, _end, text in cst.comments(tree)
        if ALLOW_MARK in text
    }
    literals = cst.strings(tree)

    # Files some option reads as a password/secret file, e.g. passwordFile = "/etc/x".
    read_as_file: set[str] = set()
    for lit in literals:
        key = _key(lit.attrpath)
        if lit.has_interpolation or not _FILE_OPTION.search(key):
            continue
        if lit.value.startswith("/etc/"):
            read_as_file.add(lit.value[len("/etc/") :])

    hits: list[Hit] = []
    for lit in literals:
        names = [n for n in lit.attrpath if not _is_index(n)]
        if any(n in _META for n in names):
            continue
        key = _key(lit.attrpath)
        if key and (filters.hash_name(key) or filters.public_name(key)):
            continue
        if not lit.value.strip():
            continue
        ctx = Context(tuple(lit.attrpath))
        dotted = ".".join(lit.attrpath) or None
        found: list[Hit] = []

        for start, end in _literal_runs(lit):
            segment = lit.value[start:end]
            for hit in token_hits(segment, ctx, start):
                found.append(hit)

        kind = filters.secret_name(key) if key else None
        if kind is not None and not lit.has_interpolation:
            node = tree.root.descendant_for_byte_range(lit.start, lit.end)
            while node is not None and node.type not in cst.STRING_TYPES:
                node = node.parent
            if node is not None and _secret_valued(node, lit.binding_start):
                attribute = _attribute_hit(lit.value, kind)
                if attribute is not None:
                    found.append(attribute)

        if lit.attrpath[-3:-2] == ["etc"] and lit.attrpath[-1:] == ["text"]:
            name = lit.attrpath[-2]
            if name in read_as_file and not lit.has_interpolation:
                stripped = lit.value.strip()
                offset = lit.value.find(stripped)
                if stripped and not filters.not_secret(stripped):
                    found.append(
                        Hit(
                            offset, offset + len(stripped), "password-file-text", "password", "high"
                        )
                    )

        for hit in found:
            if not lit.literal_text(hit.start, hit.end):
                continue
            value = lit.value[hit.start : hit.end]
            if hit.rule not in KEYED_RULES and filters.not_secret(
                value, token=hit.rule not in FREEFORM_RULES
            ):
                continue
            start, end = lit.span_of(hit.start, hit.end)
            line = data.count(b"\n", 0, start) + 1
            if line in allowed_lines:
                continue
            hits.append(Hit(start, end, hit.rule, hit.kind, hit.severity, dotted, value))
    return merge(hits), tree.has_errors


def _attribute_hit(value: str, kind: str) -> Hit | None:
    text = value.strip()
    offset = value.find(text) if text else 0
    if filters.password_hash(text):
        return Hit(offset, offset + len(text), "password-hash", "password-hash", "low")
    if kind == "password-hash":
        return None  # "!", "*" and other locked-account markers
    if filters.not_secret(text):
        return None
    if filters.hashlike(text) and kind not in (
        "psk",
        "preshared-key",
        "secret-key",
        "private-key",
        "token",
        "api-key",
    ):
        return None
    return Hit(offset, offset + len(text), "secret-attribute", kind, "medium")


def _is_index(name: str) -> bool:
    return name.startswith("[") and name.endswith("]")


def _key(attrpath: list[str]) -> str:
    for name in reversed(attrpath):
        if not _is_index(name):
            return name
    return ""


def _literal_runs(lit: NixString) -> list[tuple[int, int]]:
    """Index ranges of ``lit.value`` not produced by interpolations."""
    value = lit.value
    spans = lit.interpolations
    runs = []
    pos = 0
    for a, b in spans:
        if a > pos:
            runs.append((pos, a))
        pos = b
    if pos < len(value):
        runs.append((pos, len(value)))
    return runs
