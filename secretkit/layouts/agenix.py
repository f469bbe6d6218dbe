"""agenix / ragenix: ``secrets.nix`` rules and the ``*.age`` files they describe.

Public API::

    read_agenix(root: Path, files: Iterable[str]) -> Agenix | None
    Agenix.rules: dict[str, AgeRule]          # repo-relative .age path -> its publicKeys
    Agenix.rules_file_for(path) -> str | None # the secrets.nix whose directory holds it
    age_stanzas(data: bytes) -> list[tuple[str, list[str]]] | None   # header recipients
    recipient_problem(rule, stanzas) -> str | None

Every ``secrets.nix`` is read (a repository may keep one per host directory; agenix
reads the one of the directory it runs in, paths relative to it), never evaluated:
``"<name>.age".publicKeys = <list>;`` read as ``secretkit import agenix`` reads it
(:mod:`secretkit.layouts.agenix_rules`: key strings, let names, ``++``, ``with``,
``builtins.attrValues`` and ``import ./keys.nix`` of a file in the repository).
Anything else leaves that file's keys unknown (``AgeRule.keys`` is None, with a
reason).  An age header names X25519 recipients
only by count (their stanza holds an ephemeral share), and ssh recipients by a 4-byte
tag of the key: both are compared.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from secretkit.layouts.agenix_rules import builds_rules, is_rules_file, rules_reader
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
    # secrets.nix files that build their rules with Nix code (none written out): who can
    # open the .age files under them is not known without evaluating them
    built: list[str] = field(default_factory=list)

    def built_for(self, path: str) -> str | None:
        """The secrets.nix that builds the rules of ``path``, when the nearest rules file
        above it is one (its files are unlisted only because nothing is written out)."""
        above = [f for f in [*self.rules_files, *self.built] if in_directory_of(f, path)]
        nearest = max(above, key=lambda f: f.count("/"), default=None)
        if nearest is None and self.built:  # (built rules may name files anywhere: ../x)
            return self.built[0]
        return nearest if nearest in self.built else None

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
        if not is_rules_file(data):
            if builds_rules(data):
                out.built.append(rules_file)
            continue  # (else an ordinary module named so: agenix-rekey repositories have them)
        tree = cst.parse(data)
        base = PurePosixPath(rules_file).parent
        reader = rules_reader(tree, rules_file, root)
        bindings = list(_age_bindings(tree))
        if not bindings:
            out.built.append(rules_file)  # ("${name}.age" made in a function)
            continue
        out.rules_files.append(rules_file)
        if _builds_more(tree):  # `{ … } // builtins.listToAttrs (…)`: some rules unseen
            out.built.append(rules_file)
        for name, value, line in bindings:
            path = (base / name).as_posix() if str(base) != "." else name
            keys, why = _keys(reader, value)
            out.rules.setdefault(path, AgeRule(path, keys, why, line, rules_file))
    if not out.rules_files and not out.built:
        return None
    out.rules_file = (out.rules_files or out.built)[0]
    out.unlisted = sorted(a for a in ages if a not in out.rules)
    return out


def _builds_more(tree: cst.NixTree) -> bool:
    """Whether a rules file is more than an attrset of rules (through ``let``): a merge
    with, or a call making, rules that are not written out."""
    node = cst.unwrap(cst.expression_root(tree))
    while node is not None and node.type == "let_expression":
        node = cst.unwrap(node.child_by_field_name("body"))
    return node is not None and node.type not in cst.ATTRSETS


def _age_bindings(tree: cst.NixTree) -> Iterable[tuple[str, Node, int]]:
    for b in cst.bindings(tree):
        full = [*b.attrset_path, *b.attrpath]
        for i, part in enumerate(full):
            if part.endswith(".age") and full[i + 1 :] == ["publicKeys"]:
                line = tree.source.count(b"\n", 0, b.start) + 1
                yield part, b.value, line


def _keys(reader: Any, node: Node) -> tuple[list[str] | None, str]:
    """The keys of one ``publicKeys`` value, read as ``secretkit import agenix`` reads
    them (:mod:`secretkit.layouts.agenix_rules`), or None and why not."""
    from secretkit.layouts.agenix_rules import PublicKey, RulesError

    try:
        value = reader.value(node)
    except RulesError as exc:
        return None, exc.what or exc.message
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(k, PublicKey) for k in items):
        return None, "publicKeys is not a list of keys"
    return [k.value for k in items], ""


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
