"""agenix / ragenix: ``secrets.nix`` rules and the ``*.age`` files they describe.

Public API::

    read_agenix(root: Path, files: Iterable[str]) -> Agenix | None
    Agenix.rules: dict[str, AgeRule]          # repo-relative .age path -> its publicKeys
    Agenix.rules_file_for(path) -> str | None # the secrets.nix whose directory holds it
    age_stanzas(data: bytes) -> list[tuple[str, list[str]]] | None   # header recipients
    recipient_problem(rule, stanzas) -> str | None

Every ``secrets.nix`` is read (a repository may keep one per host directory; agenix
reads the one of the directory it runs in, paths relative to it), never evaluated:
``"<name>.age".publicKeys = <list>;`` where the list is made of string literals,
let-bound names (of strings or lists) and ``++``.
Anything else leaves that file's keys unknown (``AgeRule.keys`` is None, with a
reason).  An age header names X25519 recipients only by count (their stanza holds an
ephemeral share), and ssh recipients by a 4-byte tag of the key: both are compared.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from secretkit.nix import cst

Node = Any
_HEADER = b"age-encryption.org/v1\n"
_ARMOR = b"-----BEGIN AGE ENCRYPTED FILE-----"
_MAX_BYTES = 1024 * 1024


@dataclass
class AgeRule:
    path: str  # repo-relative path of the .age file
    keys: list[str] | None  # None: could not be read statically
    why: str = ""
    line: int = 0
    rules_file: str = ""  # the secrets.nix that lists it


@dataclass
class Agenix:
    rules_file: str  # the shallowest secrets.nix
    rules: dict[str, AgeRule] = field(default_factory=dict)
    unlisted: list[str] = field(default_factory=list)  # .age files no rule names
    rules_files: list[str] = field(default_factory=list)  # every secrets.nix, shallowest first

    def rules_file_for(self, path: str) -> str | None:
        """The nearest secrets.nix in a directory above ``path`` (agenix reads the rules
        of the directory it runs in, paths relative to it), else None."""
        above = [f for f in self.rules_files if in_directory_of(f, path)]
        return max(above, key=lambda f: f.count("/"), default=None)


def in_directory_of(rules_file: str, path: str) -> bool:
    base = PurePosixPath(rules_file).parent
    return str(base) == "." or PurePosixPath(path).is_relative_to(base)


def relative_to_rules(rules_file: str, path: str) -> str:
    """``path`` as ``rules_file`` names it (relative to its directory)."""
    base = PurePosixPath(rules_file).parent
    return path if str(base) == "." else PurePosixPath(path).relative_to(base).as_posix()


def read_agenix(root: Path, files: Iterable[str]) -> Agenix | None:
    listed = list(files)
    candidates = [f for f in listed if PurePosixPath(f).name == "secrets.nix"]
    ages = [f for f in listed if f.endswith(".age")]
    if not candidates or not ages:
        return None
    ordered = sorted(candidates, key=lambda f: (f.count("/"), f))
    out = Agenix(rules_file=ordered[0])
    for rules_file in ordered:  # a repository may keep one per directory (per host)
        try:
            data = (root / rules_file).read_bytes()
        except OSError:
            continue
        out.rules_files.append(rules_file)
        tree = cst.parse(data)
        base = PurePosixPath(rules_file).parent
        scope = _let_scope(tree)
        for name, value, line in _age_bindings(tree):
            path = (base / name).as_posix() if str(base) != "." else name
            keys, why = _keys(tree, value, scope, 0)
            out.rules.setdefault(path, AgeRule(path, keys, why, line, rules_file))
    if not out.rules_files:
        return None
    out.rules_file = out.rules_files[0]
    out.unlisted = sorted(a for a in ages if a not in out.rules)
    return out


def _let_scope(tree: cst.NixTree) -> dict[str, Node]:
    scope: dict[str, Node] = {}
    for b in cst.bindings(tree):
        parent = _binding_node(tree, b.start)
        if parent is not None and parent.parent is not None:
            holder = parent.parent.parent  # binding -> binding_set -> let/attrset
            if holder is not None and holder.type == "let_expression" and len(b.attrpath) == 1:
                scope[b.attrpath[0]] = b.value
    return scope


def _binding_node(tree: cst.NixTree, start: int) -> Node | None:
    node = tree.root.descendant_for_byte_range(start, start)
    while node is not None and node.type != "binding":
        node = node.parent
    return node


def _age_bindings(tree: cst.NixTree) -> Iterable[tuple[str, Node, int]]:
    for b in cst.bindings(tree):
        full = [*b.attrset_path, *b.attrpath]
        for i, part in enumerate(full):
            if part.endswith(".age") and full[i + 1 :] == ["publicKeys"]:
                line = tree.source.count(b"\n", 0, b.start) + 1
                yield part, b.value, line


def _keys(
    tree: cst.NixTree, node: Node, scope: dict[str, Node], depth: int
) -> tuple[list[str] | None, str]:
    if depth > 20:
        return None, "publicKeys nests too deeply"
    kind = node.type
    if kind == "parenthesized_expression":
        inner = next((c for c in node.named_children if c.type != "comment"), None)
        return _keys(tree, inner, scope, depth + 1) if inner is not None else (None, "empty")
    if kind == "string_expression":
        value = cst.string_value(tree, node)
        if value is not None:
            return [value.strip()], ""
        return None, "a public key built by interpolation"
    if kind == "variable_expression":
        name = cst.node_text(tree, node)
        if name in scope:
            return _keys(tree, scope[name], scope, depth + 1)
        return None, f"publicKeys uses {name}, which is not a let binding of secrets.nix"
    if kind == "list_expression":
        out: list[str] = []
        for child in node.named_children:
            if child.type == "comment":
                continue
            keys, why = _keys(tree, child, scope, depth + 1)
            if keys is None:
                return None, why
            out.extend(keys)
        return out, ""
    if kind == "binary_expression":
        op = next((c for c in node.children if not c.is_named), None)
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        if op is not None and cst.node_text(tree, op) == "++" and left and right:
            a, why_a = _keys(tree, left, scope, depth + 1)
            b, why_b = _keys(tree, right, scope, depth + 1)
            if a is None or b is None:
                return None, why_a or why_b
            return a + b, ""
    return None, f"publicKeys is a {kind.replace('_', ' ')} (needs evaluating Nix)"


# ---------------------------------------------------------------------------
# age headers
# ---------------------------------------------------------------------------
def _dearmor(data: bytes) -> bytes | None:
    lines = data.strip().splitlines()
    body = b"".join(line for line in lines[1:] if not line.startswith(b"-----"))
    try:
        return base64.b64decode(body, validate=False)
    except (binascii.Error, ValueError):
        return None


def age_stanzas(data: bytes) -> list[tuple[str, list[str]]] | None:
    """``[(type, args), …]`` of an age file's header, or None when it is not one."""
    if data.startswith(_ARMOR):
        decoded = _dearmor(data)
        if decoded is None:
            return None
        data = decoded
    if not data.startswith(_HEADER):
        return None
    stanzas: list[tuple[str, list[str]]] = []
    for raw in data[len(_HEADER) : 64 * 1024].split(b"\n"):
        if raw.startswith(b"--- "):
            return stanzas
        if raw.startswith(b"-> "):
            parts = raw[3:].decode("ascii", "replace").split(" ")
            stanzas.append((parts[0], parts[1:]))
    return None  # no header end: damaged


def ssh_tag(public_key: str) -> str | None:
    """age's 4-byte tag of an ``ssh-ed25519``/``ssh-rsa`` public key (base64, no padding)."""
    parts = public_key.split()
    if len(parts) < 2 or parts[0] not in ("ssh-ed25519", "ssh-rsa"):
        return None
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        return None
    return base64.b64encode(hashlib.sha256(blob).digest()[:4]).decode().rstrip("=")


def recipient_problem(rule: AgeRule, stanzas: list[tuple[str, list[str]]]) -> str | None:
    """Why the file's header does not match the keys ``secrets.nix`` lists, or None."""
    if rule.keys is None:
        return None
    want_age = sum(1 for k in rule.keys if k.startswith("age1"))
    have_age = sum(1 for t, _ in stanzas if t == "X25519")
    want_tags = sorted(t for t in (ssh_tag(k) for k in rule.keys) if t is not None)
    have_tags = sorted(args[0] for t, args in stanzas if t in ("ssh-ed25519", "ssh-rsa") and args)
    parts = []
    if want_age != have_age:
        parts.append(f"{have_age} age recipient(s) in the file, {want_age} in secrets.nix")
    if want_tags != have_tags:
        missing = len(set(want_tags) - set(have_tags))
        extra = len(set(have_tags) - set(want_tags))
        parts.append(f"ssh keys: {missing} listed but not a recipient, {extra} not listed")
    return "; ".join(parts) or None
