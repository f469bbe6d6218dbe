"""Nix syntax: bytes to a tree-sitter concrete syntax tree, and its nodes' text.

Parsing goes through tree-sitter-nix; Nix is never evaluated.  :func:`parse` never
raises on malformed Nix (``has_errors``/``error_spans`` say where).  The navigation
API over the tree is :mod:`secretkit.nix.cst`; string literal values are
:mod:`secretkit.nix.literals`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from secretkit.errors import UserError
from secretkit.lazy_re import lazy

Node = Any  # a tree_sitter.Node (the grammar's node types are strings)

_PARSER: Any = None

STRING_TYPES = ("string_expression", "indented_string_expression")
# Attribute paths longer than this (bindings and list elements nested in each other)
# are refused: no configuration needs them, and every path is a list of this length.
MAX_PATH_DEPTH = 2000


class NixTooDeep(UserError):
    """A Nix file nests attribute sets, lets or lists deeper than :data:`MAX_PATH_DEPTH`."""


def deeper(path: list[str], more: int) -> None:
    if len(path) + more > MAX_PATH_DEPTH:
        raise NixTooDeep(
            f"a Nix file nests attribute sets, lets or lists more than {MAX_PATH_DEPTH} "
            "levels deep; it was not read",
            hint="flatten the nesting (no NixOS configuration needs this depth)",
        )


def _parser() -> Any:
    global _PARSER
    if _PARSER is None:
        import importlib
        import os
        import sys

        # ``python -m`` puts the working directory first on sys.path: a scanned
        # repository holding a ``tree_sitter/`` directory must not be imported.
        saved = sys.path[:]
        here = os.getcwd()
        sys.path[:] = [p for p in sys.path if p not in ("", ".", here)]
        try:
            tree_sitter = importlib.import_module("tree_sitter")
            language = _nix_language()
        finally:
            sys.path[:] = saved
        _PARSER = tree_sitter.Parser(tree_sitter.Language(language))
    return _PARSER


def _nix_language() -> Any:
    """``tree_sitter_nix.language()``, loaded from the grammar's binding alone: the
    package's ``__init__`` imports ``importlib.resources`` (for its query files, unused
    here), a few ms of every hook run's start-up."""
    import importlib
    import importlib.machinery
    import importlib.util
    import sys

    loaded = sys.modules.get("tree_sitter_nix")
    package = importlib.util.find_spec("tree_sitter_nix") if loaded is None else None
    where = package.submodule_search_locations if package is not None else None
    spec = (
        importlib.machinery.PathFinder.find_spec("tree_sitter_nix._binding", where)
        if where
        else None
    )
    if spec is None or spec.loader is None:
        return importlib.import_module("tree_sitter_nix").language()
    binding = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(binding)
    return binding.language()


@dataclass
class NixTree:
    """A parsed Nix file: the tree-sitter root node and the source bytes."""

    root: Node
    source: bytes
    has_errors: bool
    error_spans: list[tuple[int, int]] = field(default_factory=list)
    _tree: Any = field(default=None, repr=False)
    _line_starts: list[int] | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"NixTree(bytes={len(self.source)}, has_errors={self.has_errors})"

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a byte offset; the column counts characters."""
        import bisect

        if self._line_starts is None:
            starts = [0]
            find = self.source.find
            pos = find(b"\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find(b"\n", pos + 1)
            self._line_starts = starts
        index = bisect.bisect_right(self._line_starts, offset) - 1
        line_start = self._line_starts[index]
        column = len(self.source[line_start:offset].decode("utf-8", "replace")) + 1
        return index + 1, column


# ``{ a, b, }:`` — a trailing comma in a function's formals is valid Nix (nixfmt's RFC
# style writes it) that tree-sitter-nix rejects.  It is parsed with the comma replaced
# by a space: same length, so every node's offsets hold for the original bytes.
# Between the comma and the ``}``: whole lines of blanks and comments, then blanks and
# a comment's start on the brace's line.  (The same text as ``(?:\s|#[^\n]*)*``,
# written so that a run of commented-out lines is read once, not in exponentially
# many ways.)
_TRAILING_FORMAL_COMMA = lazy(
    rb",((?:[ \t\r\f\v]*(?:#[^\n]*)?\n)*[ \t\r\f\v]*(?:#[^\n]*)?"
    rb"\}\s*(?:@\s*[A-Za-z_][\w'-]*\s*)?:)"
)


def parse(source: bytes) -> NixTree:
    """Parse ``source``; never raises on malformed Nix (see ``has_errors``)."""
    tree = _parser().parse(source)
    if tree.root_node.has_error and b"," in source:
        patched = _TRAILING_FORMAL_COMMA.sub(lambda m: b" " + m.group(1), source)
        if patched != source:
            retry = _parser().parse(patched)
            if not retry.root_node.has_error:
                tree = retry
    root = tree.root_node
    spans: list[tuple[int, int]] = []
    if root.has_error:
        for node in walk(root):
            if node.is_error or node.is_missing:
                spans.append((int(node.start_byte), int(node.end_byte)))
    return NixTree(root, source, bool(root.has_error), spans, tree)


class Tree(Protocol):
    """A parsed file as the navigation needs it: the root node, the bytes, positions."""

    @property
    def root(self) -> Node: ...

    @property
    def source(self) -> bytes: ...

    def position(self, offset: int) -> tuple[int, int]: ...


def node_text(tree: Tree, node: Node) -> str:
    """The source text of ``node`` (undecodable bytes replaced)."""
    return tree.source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def walk(node: Node) -> Iterator[Node]:
    """Every node below ``node`` (itself first), in source order, without recursion."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def comments(tree: Tree) -> Iterator[tuple[int, int, str]]:
    """``(start, end, text)`` of every comment."""
    for node in walk(tree.root):
        if node.type == "comment":
            yield int(node.start_byte), int(node.end_byte), node_text(tree, node)


def in_string(tree: Tree, byte: int) -> bool:
    """Whether ``byte`` lies inside a string literal, between its quotes (what is
    written there belongs to the string: ``#`` starts no comment)."""
    node = tree.root.descendant_for_byte_range(byte, byte)
    while node is not None:
        if node.type in STRING_TYPES:
            return bool(node.start_byte < byte < node.end_byte)
        node = node.parent
    return False


def inherited_from(tree: Tree, node: Node) -> Iterator[tuple[Node, list[str]]]:
    """(source expression, names) of each ``inherit (source) a b;`` of an attrset or
    ``let`` (:func:`attrset_entries` gives the plain ``inherit a b;``)."""
    for child in node.named_children:
        if child.type != "binding_set":
            continue
        for b in child.named_children:
            source = b.child_by_field_name("expression") if b.type == "inherit_from" else None
            attrs = b.child_by_field_name("attrs") if source is not None else None
            if source is not None and attrs is not None:
                names = [node_text(tree, i) for i in attrs.named_children if i.type == "identifier"]
                yield source, names


MKIF = ("mkIf", "lib.mkIf")


def mkif_body(tree: Tree, node: Node) -> Node:
    """The value of ``mkIf <condition> <value>`` (``lib.mkIf`` too): where a module's
    ``config = mkIf cfg.enable { … };`` puts its option values (they count only when
    the condition holds, as do declarations placed beside them).  Any other node is
    returned as it is."""
    if node is None or node.type != "apply_expression":
        return node
    head = node.child_by_field_name("function")
    if head is None or head.type != "apply_expression":
        return node
    name = head.child_by_field_name("function")
    if name is None or " " in node_text(tree, name) or node_text(tree, name) not in MKIF:
        return node
    value = node.child_by_field_name("argument")
    while value is not None and value.type == "parenthesized_expression":
        value = next((c for c in value.named_children if c.type != "comment"), None)
    return value if value is not None else node


def let_bound(tree: Tree, node: Node, name: str) -> Iterator[Node]:
    """The expressions ``name`` is bound to (``let name = …;``) by the ``let`` blocks
    around ``node``, innermost first: the first one is the binding Nix uses there."""
    current = node.parent
    while current is not None:
        if current.type == "let_expression":
            for child in current.named_children:
                if child.type != "binding_set":
                    continue
                for binding in child.named_children:
                    attrpath = binding.child_by_field_name("attrpath")
                    value = binding.child_by_field_name("expression")
                    if binding.type != "binding" or attrpath is None or value is None:
                        continue
                    parts = attrpath.named_children
                    one = len(parts) == 1 and parts[0].type == "identifier"
                    if one and node_text(tree, parts[0]) == name:
                        yield value
        current = current.parent


def follow_let(tree: Tree, node: Node) -> Node:
    """``node``, or, when it is a name a ``let`` around it binds, what that name is bound
    to (followed through further let-bound names, a bounded number of steps)."""
    for _ in range(16):
        inner = node
        while inner.type == "parenthesized_expression" and inner.named_children:
            inner = inner.named_children[0]
        if inner.type != "variable_expression":
            return inner
        bound = next(let_bound(tree, inner, node_text(tree, inner)), None)
        if bound is None:
            return inner
        node = bound
    return node


def unwrap(node: Node) -> Node:
    """``node`` without the parentheses around it (None for ``None`` or ``( )``)."""
    while node is not None and node.type == "parenthesized_expression":
        node = next((c for c in node.named_children if c.type != "comment"), None)
    return node


# Functions that set an option's value at another priority (lib.mkDefault "…") or
# place it in the merge order (lib.mkAfter ''…'', a script's lines after the module's):
# the value is still the option's; rewritten inside the call, the priority stays
PRIORITY_WRAPPERS = frozenset(
    {"mkDefault", "mkForce", "mkOptionDefault", "mkOverride", "mkBefore", "mkAfter"}
)


def call_of(node: Node) -> tuple[Node, Node] | None:
    """``(the call, its function)`` when ``node`` is the argument a function is applied
    to (``f node``), else None."""
    parent = node.parent
    if parent is None or parent.type != "apply_expression":
        return None
    argument = parent.child_by_field_name("argument")
    function = parent.child_by_field_name("function")
    if argument is None or argument.id != node.id or function is None:
        return None
    return parent, function


def priority_call(tree: Tree, node: Node) -> Node | None:
    """The ``mkDefault x`` / ``mkForce x`` / ``mkOverride 50 x`` call (``lib.``'s too)
    whose value ``node`` is, else None."""
    call = call_of(node)
    if call is None:
        return None
    parent, function = call
    if function.type == "apply_expression":  # mkOverride <priority>
        number = function.child_by_field_name("argument")
        function = function.child_by_field_name("function")
        if number is None or number.type != "integer_expression" or function is None:
            return None
        if node_text(tree, function).rsplit(".", 1)[-1] != "mkOverride":
            return None
        return parent
    name = node_text(tree, function).rsplit(".", 1)[-1]
    return parent if name in PRIORITY_WRAPPERS - {"mkOverride"} else None


def call_name(tree: Tree, node: Node | None) -> str | None:
    """The last name of the function a call applies (``lib.mkIf c x`` → ``mkIf``,
    ``mkOverride 50 x`` → ``mkOverride``), None when ``node`` is no call of a name."""
    node = unwrap(node) if node is not None else None
    if node is None or node.type != "apply_expression":
        return None
    head = unwrap(node.child_by_field_name("function"))
    while head is not None and head.type == "apply_expression":
        head = unwrap(head.child_by_field_name("function"))
    if head is None or head.type not in ("variable_expression", "select_expression"):
        return None
    return node_text(tree, head).rsplit(".", 1)[-1]


def passed_through(tree: Tree, node: Node | None, names: frozenset[str]) -> Node | None:
    """``node`` without the calls of ``names`` around it (``lib.mkDefault (toString x)``
    → ``x`` for priorities and ``toString``): their value is their last argument's."""
    node = unwrap(node) if node is not None else None
    for _ in range(8):
        if call_name(tree, node) not in names or node is None:
            return node
        node = unwrap(node.child_by_field_name("argument"))
    return node


def expression_root(tree: Tree) -> Node | None:
    """The expression a file is (its first node that is not a comment)."""
    root = tree.root
    if root.type == "source_code":
        return next((c for c in root.named_children if c.type != "comment"), None)
    return root


MKMERGE = ("mkMerge", "lib.mkMerge")


def mkmerge_part(tree: Tree, node: Node | None, at: int) -> Node | None:
    """In ``mkMerge [ { … } (mkIf c { … }) … ]`` (``lib.mkMerge`` too), the attrset of
    the element (through its ``mkIf``) that holds byte ``at``; None for anything else."""
    node = unwrap(node) if node is not None else None
    if node is None or node.type != "apply_expression":
        return None
    head, items = node.child_by_field_name("function"), node.child_by_field_name("argument")
    items = unwrap(items) if items is not None else None
    if head is None or node_text(tree, head) not in MKMERGE or items is None:
        return None
    if items.type != "list_expression":
        return None
    for element in items.named_children:
        part = mkif_body(tree, unwrap(element))
        attrset = part is not None and part.type in ("attrset_expression", "rec_attrset_expression")
        if attrset and part.start_byte <= at < part.end_byte:
            return part
    return None


class _Bound(Protocol):
    """A binding, as :class:`secretkit.nix.cst.Binding` is."""

    @property
    def full_path(self) -> list[str]: ...

    @property
    def value(self) -> Node: ...


def option_path(binding: _Bound, base: int = 0) -> list[str]:
    """The option a binding sets: ``{ options = …; config = { … }; }`` sets the same
    options as a module without ``config``, and so do the attrsets of
    ``config = mkMerge [ { … } ]`` (``config.[0]``), of a module that is
    ``mkMerge [ … ]`` itself (``[0]``) and inline modules in ``imports = [ { … } ]``.
    ``base``: how many names of the binding's path lead to the module it is in (an
    inline module of ``flake.nix``, a colmena node:
    :class:`secretkit.nix.sops_refs.InlineModules`)."""
    full = binding.full_path[base:]
    if any(_index(name) for name in full):
        full = _merged_away(binding, base)
    k = 0
    while k < len(full):
        if (full[k] == "config" and k == 0) or _index(full[k]):
            k += 1
        elif full[k] == "imports" and k + 1 < len(full) and _index(full[k + 1]):
            k += 2
        else:
            break
    return full[k:]


def _merged_away(binding: _Bound, base: int) -> list[str]:
    """The binding's path from ``base`` without the ``[i]`` of each ``mkMerge [ … ]`` list
    it is in (``sops.secrets = lib.mkMerge [ (genAttrs …) { x = { … }; } ]`` declares
    ``x``): mkMerge takes its elements as definitions of the option it is given to."""
    merged: list[bool] = []  # each list around the binding, from the inside out
    node = binding.value.parent
    while node is not None:
        if node.type == "list_expression":
            outer = node.parent
            while outer is not None and outer.type == "parenthesized_expression":
                outer = outer.parent
            head = outer.child_by_field_name("function") if outer is not None else None
            merged.append(
                outer is not None
                and outer.type == "apply_expression"
                and head is not None
                and head.text.decode("utf-8", "replace") in MKMERGE
            )
        node = node.parent
    whole = binding.full_path
    indexes = [i for i, name in enumerate(whole) if _index(name)]
    drop = {i for i, away in zip(reversed(indexes), merged, strict=False) if away}
    return [name for i, name in enumerate(whole) if i >= base and i not in drop]


def _index(name: str) -> bool:
    return name.startswith("[") and name.endswith("]")
