"""Read an agenix/ragenix rules file (``secrets.nix``) without evaluating Nix.

The rules file is a Nix attrset, usually inside a ``let`` that names the public
keys of users and hosts and lists of them::

    let
      alice = "ssh-ed25519 AAAA…";
      web1 = "ssh-ed25519 AAAA…";
      systems = [ web1 web2 ];
    in {
      "nginx.age".publicKeys = [ alice ] ++ systems;
      "db.age" = { publicKeys = [ alice db ]; armor = true; };
    }

:func:`read_rules` follows exactly what such files use — string literals,
``let`` names, lists, ``++``, attrsets of keys with ``users.alice`` and
``builtins.attrValues users``, ``with keys; [ alice web1 ]`` and ``import ./keys.nix``
(a file of the repository read the same way) — and refuses anything else with one line naming
the place (agenix itself evaluates the file with ``nix-instantiate --eval``;
secretkit never runs Nix on a repository's content).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from secretkit.errors import UserError
from secretkit.nix import cst

Node = Any
RULES_FILE = "secrets.nix"


def is_rules_file(data: bytes) -> bool:
    """Whether a ``secrets.nix`` lists age files' keys (``"x.age".publicKeys = …``): one
    that does not is an ordinary module (agenix-rekey repositories name theirs so)."""
    return b".age" in data and b"publicKeys" in data


def builds_rules(data: bytes) -> bool:
    """Whether a ``secrets.nix`` in which no ``"x.age".publicKeys = …;`` rule is written
    out still makes agenix's rules: it names ``publicKeys`` (a function over a list of
    files or a directory builds the attrset).  Who can open its files is then known
    only by evaluating it, which secretkit never does."""
    return b"publicKeys" in data


_MAX_DEPTH = 40


@dataclass(frozen=True)
class PublicKey:
    """One entry of a ``publicKeys`` list: the key text and the let name it came from."""

    value: str
    name: str | None  # ``web1`` for ``web1 = "ssh-ed25519 …"``; None for an inline literal


@dataclass(frozen=True)
class Rule:
    """``"<file>".publicKeys = [ … ];`` (``file`` relative to the rules file's directory)."""

    file: str
    keys: tuple[PublicKey, ...]
    armor: bool = False


class RulesError(UserError):
    """The rules file cannot be read without evaluating Nix (exit 3).  ``what``: the
    reason without the place."""

    what = ""


def _fail(tree: cst.NixTree, node: Node, what: str, rel: str) -> RulesError:
    line, _ = tree.position(int(node.start_byte))
    error = RulesError(
        f"{rel} line {line}: {what}",
        hint="write publicKeys as lists of key strings, let names, ++, attrValues, with and "
        "import ./keys.nix, as in agenix's README",
    )
    error.what = what
    return error


class _Reader:
    def __init__(self, tree: cst.NixTree, rel: str, base: Path | None = None) -> None:
        self.tree = tree
        self.rel = rel
        self.env: dict[str, Node] = {}
        self.withs: list[dict[str, Any]] = []  # ``with x;`` scopes, innermost last
        self.base = base  # the repository root ``import`` may read below (None: no import)
        self.importing: tuple[str, ...] = (rel,)

    def fail(self, node: Node, what: str) -> RulesError:
        return _fail(self.tree, node, what, self.rel)

    def text(self, node: Node) -> str:
        return cst.node_text(self.tree, node)

    def value(self, node: Node, name: str | None = None, depth: int = 0) -> Any:
        """str → PublicKey, list → list, attrset → dict, true/false → bool."""
        if depth > _MAX_DEPTH:
            raise self.fail(node, "let names refer to each other in a loop")
        kind = node.type
        if kind == "parenthesized_expression":
            return self.value(node.named_children[0], name, depth + 1)
        if kind in cst.STRING_TYPES:
            literal = cst.string_at(self.tree, node)
            if literal.has_interpolation:
                raise self.fail(node, "a key string with ${…} interpolation")
            return PublicKey(literal.value.strip(), name)
        if kind == "list_expression":
            out: list[Any] = []
            for element in node.named_children:
                if element.type == "comment":
                    continue
                item = self.value(element, None, depth + 1)
                out.extend(item if isinstance(item, list) else [item])
            return out
        if kind == "binary_expression":
            operator = node.child_by_field_name("operator")
            left = self.value(node.child_by_field_name("left"), None, depth + 1)
            right = self.value(node.child_by_field_name("right"), None, depth + 1)
            is_concat = operator is not None and self.text(operator) == "++"
            if is_concat and isinstance(left, list) and isinstance(right, list):
                return left + right
            raise self.fail(node, f"operator {self.text(operator) if operator else '?'}")
        if kind == "variable_expression":
            ident = self.text(node)
            if ident in ("true", "false"):
                return ident == "true"
            if ident in self.env:  # a let name hides a `with` one, as in Nix
                return self.value(self.env[ident], ident, depth + 1)
            for scope in reversed(self.withs):
                if ident in scope:
                    return _named(scope[ident], ident)
            where = "the let block nor the with scopes" if self.withs else "the let block"
            raise self.fail(node, f"{ident} is not defined in {where}")
        if kind == "with_expression":  # with identities; [ alice web1 ]
            scope = self.value(node.child_by_field_name("environment"), None, depth + 1)
            if not isinstance(scope, dict):
                raise self.fail(node, "with of something that is not an attrset of keys")
            self.withs.append(scope)
            try:
                return self.value(node.child_by_field_name("body"), name, depth + 1)
            finally:
                self.withs.pop()
        if kind in ("attrset_expression", "rec_attrset_expression"):
            return {
                ".".join(names): self.value(value, names[-1], depth + 1)
                for names, value in self.bindings(node)
            }
        if kind == "select_expression":
            base = self.value(node.child_by_field_name("expression"), None, depth + 1)
            attrpath = node.child_by_field_name("attrpath")
            for part in cst.attr_names(self.tree, attrpath):
                if not isinstance(base, dict) or part not in base:
                    raise self.fail(node, f"no attribute {part} in {self.text(node)}")
                base = base[part]
            return base
        if kind == "apply_expression":
            function = node.child_by_field_name("function")
            if function is not None and self.text(function) in ("import", "builtins.import"):
                return self.imported(node.child_by_field_name("argument"), depth)
            if function is not None and self.text(function) == "builtins.attrValues":
                argument = self.value(node.child_by_field_name("argument"), None, depth + 1)
                if isinstance(argument, dict):
                    values: list[Any] = []
                    for key in sorted(argument):  # Nix orders attrValues by name
                        item = argument[key]
                        values.extend(item if isinstance(item, list) else [item])
                    return values
            raise self.fail(node, f"a function call ({self.text(function or node)[:40]})")
        raise self.fail(node, f"an expression secretkit does not evaluate ({kind})")

    def imported(self, argument: Node, depth: int) -> Any:
        """``import ./keys.nix``: the value of that file of the repository (a let, an
        attrset or a list of keys), read the same way."""
        if self.base is None or argument is None or argument.type != "path_expression":
            raise self.fail(argument, "an import of something other than a relative path")
        text = self.text(argument)
        if text.startswith(("/", "~", "<")):
            raise self.fail(argument, f"an import outside the repository ({text})")
        target = (self.base / PurePosixPath(self.rel).parent / text).resolve()
        if target.is_dir():
            target = target / "default.nix"
        try:
            rel = target.relative_to(self.base.resolve()).as_posix()
        except ValueError:
            raise self.fail(argument, f"an import outside the repository ({text})") from None
        if rel in self.importing:
            raise self.fail(argument, f"{rel} imports itself")
        try:
            data = target.read_bytes()
        except OSError as exc:
            raise self.fail(argument, f"cannot read {rel} ({exc.strerror})") from None
        tree = cst.parse(data)
        if tree.has_errors:
            raise RulesError(f"{rel}: syntax error", hint="fix the Nix syntax")
        reader = _Reader(tree, rel, self.base)
        reader.importing = (*self.importing, rel)
        node = _body(reader, tree)
        if node is None:
            raise RulesError(f"{rel} is empty")
        return reader.value(node, None, depth + 1)

    def bindings(self, attrset: Node) -> list[tuple[list[str], Node]]:
        out: list[tuple[list[str], Node]] = []
        for child in attrset.named_children:
            if child.type != "binding_set":
                continue
            for binding in child.named_children:
                if binding.type == "comment":
                    continue
                if binding.type != "binding":
                    raise self.fail(binding, "inherit is not supported in the rules file")
                names = cst.attr_names(self.tree, binding.child_by_field_name("attrpath"))
                out.append((names, binding.child_by_field_name("expression")))
        return out


def _rules_of(reader: _Reader, top: Node) -> list[Rule]:
    entries: dict[str, dict[str, Any]] = {}
    for names, node in reader.bindings(top):
        file, rest = names[0], names[1:]
        fields = entries.setdefault(file, {})
        if rest:
            fields[".".join(rest)] = reader.value(node)
            continue
        value = reader.value(node)
        if not isinstance(value, dict):
            raise reader.fail(node, f"{file} is not an attrset with publicKeys")
        fields.update(value)
    rules = []
    for file, fields in entries.items():
        keys = fields.get("publicKeys")
        if not isinstance(keys, list) or not all(isinstance(k, PublicKey) for k in keys):
            raise RulesError(
                f"{reader.rel}: {file} has no list of public keys (publicKeys)",
                hint='write "<name>.age".publicKeys = [ … ];',
            )
        if not keys:
            raise RulesError(f"{reader.rel}: {file} has an empty publicKeys list")
        rules.append(Rule(file, tuple(dict.fromkeys(keys)), fields.get("armor") is True))
    return rules


def _body(reader: _Reader, tree: cst.NixTree) -> Node | None:
    """The file's expression below its ``let`` blocks (their names put in ``reader``)."""
    root = tree.root
    node = root.named_children[0] if root.named_children else None
    while node is not None and node.type in ("parenthesized_expression", "let_expression"):
        if node.type == "let_expression":
            for names, value in reader.bindings(node):
                reader.env[names[0]] = value
            node = node.child_by_field_name("body")
        else:
            node = node.named_children[0]
    return node


def _named(value: Any, name: str) -> Any:
    """A key taken from a ``with`` scope, named as the scope names it."""
    if isinstance(value, PublicKey) and value.name is None:
        return PublicKey(value.value, name)
    return value


def rules_reader(tree: cst.NixTree, rel: str, base: Path | None) -> _Reader:
    """A reader of the values of the rules file ``tree`` (``rel``), its ``let`` names
    known: ``.value(node)`` reads one (the gate reads each file's ``publicKeys``
    alone: one it cannot read leaves the others readable)."""
    reader = _Reader(tree, rel, base)
    _body(reader, tree)
    return reader


def read_rules(path: Path, rel: str = RULES_FILE, base: Path | None = None) -> list[Rule]:
    """The rules of an agenix ``secrets.nix``; :class:`RulesError` when it cannot be read.
    ``base``: the repository root, below which ``import ./x.nix`` may read files."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RulesError(f"cannot read {rel}: {exc.strerror}") from None
    tree = cst.parse(data)
    if tree.has_errors:
        line, _ = tree.position(tree.error_spans[0][0] if tree.error_spans else 0)
        raise RulesError(
            f"{rel} line {line}: syntax error", hint="fix the Nix syntax (nix-instantiate --parse)"
        )
    reader = _Reader(tree, rel, base)
    node = _body(reader, tree)
    if node is None or node.type not in ("attrset_expression", "rec_attrset_expression"):
        raise RulesError(
            f"{rel} is not an attrset of rules",
            hint='agenix expects { "<name>.age".publicKeys = [ … ]; }',
        )
    return _rules_of(reader, node)
