"""The one Nix navigation API: attribute paths, bindings, string literals, modules.

Parsing goes through tree-sitter-nix (:mod:`secretkit.nix.syntax`); Nix is never
evaluated.  Everything handed out carries byte offsets into the original source so
later stages can edit by spans (:mod:`secretkit.nix.edits`, :mod:`secretkit.nix.emit`).

* :func:`parse` — bytes → :class:`NixTree` (``has_errors``/``error_spans``); :func:`walk`;
  :func:`in_string` — whether a byte lies inside a string literal.
* :func:`attr_name` / :func:`attr_names` / :func:`static_attr_names` — the one
  attribute path reader; :func:`dotted_name` for ``a.b.c`` expressions.
* :func:`strings` — every string literal (``"…"`` and ``''…''``) with its value
  (:mod:`secretkit.nix.literals`: the one unescaper), attribute path and binding;
  :func:`string_value` — a plain literal's value.
* :func:`bindings` — every ``a.b = …;`` binding with its own attribute path and
  the path of the attrset it sits in; :func:`attrset_entries` for one attrset.
* modules — :func:`module_body`, :func:`config_body`, :func:`find_option`,
  :func:`container_of`, :func:`path_below`, :func:`iter_bindings`, :func:`host_names`.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from secretkit.lazy_re import lazy
from secretkit.nix.literals import NixString as NixString
from secretkit.nix.literals import literal
from secretkit.nix.literals import string_parts as string_parts
from secretkit.nix.literals import string_text as string_text
from secretkit.nix.literals import string_value as string_value
from secretkit.nix.literals import unquote as unquote
from secretkit.nix.syntax import MAX_PATH_DEPTH as MAX_PATH_DEPTH
from secretkit.nix.syntax import STRING_TYPES as STRING_TYPES
from secretkit.nix.syntax import NixTooDeep as NixTooDeep
from secretkit.nix.syntax import NixTree as NixTree
from secretkit.nix.syntax import Node as Node
from secretkit.nix.syntax import Tree as Tree
from secretkit.nix.syntax import _parser as _parser
from secretkit.nix.syntax import call_of as call_of
from secretkit.nix.syntax import comments as comments
from secretkit.nix.syntax import deeper, mkif_body
from secretkit.nix.syntax import expression_root as expression_root
from secretkit.nix.syntax import follow_let as follow_let
from secretkit.nix.syntax import in_string as in_string
from secretkit.nix.syntax import inherited_from as inherited_from
from secretkit.nix.syntax import let_bound as let_bound
from secretkit.nix.syntax import node_text as node_text
from secretkit.nix.syntax import option_path as option_path
from secretkit.nix.syntax import parse as parse
from secretkit.nix.syntax import priority_call as priority_call
from secretkit.nix.syntax import unwrap as unwrap
from secretkit.nix.syntax import walk as walk

ATTRSETS = ("attrset_expression", "rec_attrset_expression")

Resolver = Callable[[Node], "str | None"]
"""Gives the string value of an expression inside ``${…}`` of an attribute name
(``config.my.user``, a let-bound name), or None when it cannot be known."""


# ---------------------------------------------------------------------------
# attribute paths
# ---------------------------------------------------------------------------


def attr_name(tree: Tree, part: Node, resolve: Resolver | None = None) -> str | None:
    """The name one element of an ``attrpath`` stands for: an identifier, a quoted
    name by value; a computed one (``${…}``) through ``resolve``, else None."""
    kind = part.type
    if kind == "identifier":
        return node_text(tree, part)
    if kind == "string_expression":
        value = literal(tree, part)
        if not value.interpolations:
            return value.value
        inner = [c for c in part.named_children if c.type == "interpolation"]
        if resolve is None or len(inner) != len(value.interpolations):
            return None
        pieces: list[str] = []
        at = 0
        for (start, end), interpolation in zip(value.interpolations, inner, strict=True):
            got = _resolved(interpolation, resolve)
            if got is None:
                return None
            pieces += [value.value[at:start], got]
            at = end
        pieces.append(value.value[at:])
        return "".join(pieces)
    if kind == "interpolation" and resolve is not None:
        return _resolved(part, resolve)
    return None


def _resolved(interpolation: Node, resolve: Resolver) -> str | None:
    inner = interpolation.named_children[0] if interpolation.named_children else None
    return resolve(inner) if inner is not None else None


def attr_names(tree: Tree, attrpath: Node) -> list[str]:
    """The names of an ``attrpath`` node: identifiers, quoted names by value,
    computed names (``${…}``) as their source text."""
    return [
        string_parts(tree, part)[0] if part.type in STRING_TYPES else node_text(tree, part)
        for part in attrpath.named_children
    ]


def static_attr_names(
    tree: Tree, attrpath: Node, resolve: Resolver | None = None
) -> list[str] | None:
    """The names of an ``attrpath`` node; None if a part is computed and ``resolve``
    (when given) cannot turn it into a string."""
    names: list[str] = []
    for part in attrpath.named_children:
        name = attr_name(tree, part, resolve)
        if name is None:
            return None
        names.append(name)
    return names


def dotted_name(tree: Tree, node: Node) -> str | None:
    """``a.b.c`` for a variable or a select expression of plain names (no ``or``)."""
    if node.type == "variable_expression":
        return node_text(tree, node)
    if node.type == "select_expression":
        head = node.child_by_field_name("expression")
        path = node.child_by_field_name("attrpath")
        if head is None or path is None or node.child_by_field_name("default") is not None:
            return None
        base = dotted_name(tree, head)
        names = static_attr_names(tree, path)
        if base is None or names is None:
            return None
        return ".".join([base, *names])
    return None


def path_of(tree: Tree, node: Node) -> list[str]:
    """The attribute path leading to ``node``: binding names from the outside in,
    list elements as ``[i]`` (0-based); every other construct is transparent."""
    parts: list[list[str]] = []
    child = node
    parent = node.parent
    while parent is not None:
        kind = parent.type
        if kind == "binding" and child.type != "attrpath":
            names = parent.child_by_field_name("attrpath")
            if names is not None:
                parts.append(attr_names(tree, names))
        elif kind == "list_expression":
            index = 0
            for element in parent.named_children:
                if element.id == child.id:
                    break
                if element.type != "comment":
                    index += 1
            parts.append([f"[{index}]"])
        child = parent
        parent = parent.parent
    out: list[str] = []
    for names in reversed(parts):
        out.extend(names)
    return out


def _enclosing_binding(node: Node) -> Node | None:
    parent = node.parent
    while parent is not None:
        if parent.type == "binding":
            return parent
        parent = parent.parent
    return None


@dataclass(frozen=True)
class Binding:
    """``a.b = value;``: its own names, the value node, its byte span and the path of
    the attrset (or let block) it belongs to."""

    attrpath: list[str]
    value: Node
    start: int
    end: int
    attrset_path: list[str]

    @property
    def full_path(self) -> list[str]:
        return [*self.attrset_path, *self.attrpath]


def bindings(tree: Tree) -> Iterator[Binding]:
    """Every binding in source order (let bindings included), in one pass from the top
    (walking up from each binding made deeply nested files quadratic)."""
    stack: list[tuple[Node, list[str]]] = [(tree.root, [])]
    while stack:
        node, path = stack.pop()
        kind = node.type
        children = node.children
        if kind == "binding":
            names_node = node.child_by_field_name("attrpath")
            value = node.child_by_field_name("expression")
            names = attr_names(tree, names_node) if names_node is not None else []
            if names_node is not None and value is not None:
                yield Binding(names, value, int(node.start_byte), int(node.end_byte), path)
            deeper(path, len(names))
            inner = path + names
            stack.extend((c, inner) for c in reversed(children) if c.type != "attrpath")
        elif kind == "list_expression":
            pushed = []
            index = 0
            deeper(path, 1)
            for child in children:
                if child.is_named and child.type != "comment":
                    pushed.append((child, [*path, f"[{index}]"]))
                    index += 1
                else:
                    pushed.append((child, path))
            stack.extend(reversed(pushed))
        elif kind != "attrpath":
            stack.extend((c, path) for c in reversed(children))


_QUERY: Any = None
_QUERY_TEXT = """
(string_expression) @s
(indented_string_expression) @s
(binding) @b
(attrpath (string_expression)) @a
(attrpath (interpolation)) @a
(list_expression) @l
(apply_expression argument: (string_expression) @p)
(apply_expression argument: (indented_string_expression) @p)
"""
_ORDER = {"b": 0, "l": 1, "a": 2, "s": 3}
_EVENT_KEY = itemgetter(0)
# ``a.b.c =``: an attribute path of plain identifiers, read from the bytes (in a tree
# without errors, where a binding starts with its attribute path).
_PLAIN_NAMES = lazy(rb"[A-Za-z_][\w'-]*(?:\.[A-Za-z_][\w'-]*)*(?=[ \t\r\n]*=)")


def string_nodes(tree: Tree) -> Iterator[tuple[Node, list[str], Node | None]]:
    """``(node, attrpath, enclosing binding)`` of every string literal used as a value,
    in source order (attribute names excluded).

    tree-sitter's query engine finds the strings and what names them (bindings, lists,
    attribute paths) in C; one sweep in source order keeps the open ones on a stack
    (:func:`string_nodes_walk` is the same by a plain walk)."""
    for node, path, binding, _start, _end, _argument in value_strings(tree):
        yield node, path, binding


def value_strings(
    tree: Tree, within: tuple[int, int] | None = None
) -> Iterator[tuple[Node, list[str], Node | None, int, int, bool]]:
    """:func:`string_nodes` with each string's start and end byte, and whether it may
    be the argument of a function application (always True when it is one); only
    those meeting the byte range ``within`` if given (paths stay whole)."""
    global _QUERY
    import tree_sitter

    if _QUERY is None:
        _QUERY = tree_sitter.Query(_parser().language, _QUERY_TEXT)
    cursor = tree_sitter.QueryCursor(_QUERY)
    if within is not None:  # (what meets it includes every construct around it)
        cursor.set_byte_range(*within)
    captures = cursor.captures(tree.root)
    argument_nodes = captures.pop("p", None)
    arguments = {node.start_byte for node in argument_nodes} if argument_nodes else set()
    # sorted by (start, -end, order) through one integer per event
    width = len(tree.source) + 1
    events: list[tuple[int, int, int, int, Node]] = []
    for name, nodes in captures.items():
        order = _ORDER[name]
        events += [
            ((start * width - end) * 4 + order, start, end, order, node)
            for node in nodes
            for start, end in ((node.start_byte, node.end_byte),)
        ]
    events.sort(key=_EVENT_KEY)
    names_at = _PLAIN_NAMES.match if not tree.root.has_error else None
    # open constructs: [end byte, start byte, order, node, path or element starts];
    # the bottom one stands for the file (a binding whose path is known: [])
    stack: list[list[Any]] = [[len(tree.source) + 1, -1, 0, None, []]]
    top_end = stack[-1][0]
    names_open = 0  # attribute paths on the stack: a string inside one is a quoted name
    for _key, start, end, order, node in events:
        if top_end <= start:
            while True:  # close what ended before this start (a zero-width one stays)
                top = stack[-1]
                if top[0] > start or (top[0] == start and top[1] == start):
                    break
                stack.pop()
                if top[2] == 2:
                    names_open -= 1
            top_end = stack[-1][0]
        if order == 3:
            if names_open:
                continue  # a quoted attribute name
            top = stack[-1]
            if top[2] == 0 and top[4] is not None:  # directly in a binding that knows its path
                yield node, top[4][:], top[3], start, end, start in arguments
            else:
                path, binding = _path_at(tree, stack, start, names_at)
                yield node, path, binding, start, end, start in arguments
            stack.append([end, start, 3, node, None])
        elif order == 2:
            stack.append([end, start, 2, node, None])
            names_open += 1
        else:  # a binding (its names are read when a string inside needs them), a list
            stack.append([end, start, order, node, None])
            if len(stack) > MAX_PATH_DEPTH + 1:  # the walk's limit, counted by open constructs
                deeper([], len(stack) - 1)
        top_end = end


def _element_starts(node: Node) -> list[int]:
    return [c.start_byte for c in node.children if c.is_named and c.type != "comment"]


def _path_at(
    tree: Tree, stack: list[list[Any]], at: int, names_at: Callable[..., Any] | None
) -> tuple[list[str], Node | None]:
    """The attribute path and the innermost binding of a string at byte ``at`` inside
    the open constructs ``stack``: the path of the nearest binding that knows it, then
    list positions and the names of the bindings above it (which then know theirs)."""
    above: list[list[Any]] = []
    index = len(stack) - 1
    while True:
        entry = stack[index]
        kind = entry[2]
        if kind == 0:
            if entry[4] is not None:
                break
            above.append(entry)
        elif kind == 1:
            above.append(entry)
        index -= 1
    path: list[str] = entry[4][:]
    binding = entry[3]
    for entry in reversed(above):
        if entry[2] == 1:  # the list element holding the string
            starts = entry[4]
            if starts is None:
                starts = entry[4] = _element_starts(entry[3])
            path.append(f"[{bisect.bisect_right(starts, at) - 1}]")
            continue
        binding = entry[3]
        names = names_at(tree.source, entry[1]) if names_at is not None else None
        if names is not None:
            path += names.group().decode().split(".")
        else:
            names_node = binding.child_by_field_name("attrpath")
            path += attr_names(tree, names_node) if names_node else []
        entry[4] = path[:]
    return path, binding


def string_nodes_walk(tree: Tree) -> Iterator[tuple[Node, list[str], Node | None]]:
    """:func:`string_nodes` by walking every node in Python (the reference)."""
    stack: list[tuple[Node, list[str], Node | None]] = [(tree.root, [], None)]
    while stack:
        node, path, binding = stack.pop()
        kind = node.type
        if kind in STRING_TYPES:
            yield node, path, binding
        children = node.children
        if not children:
            continue
        pushed: list[tuple[Node, list[str], Node | None]] = []
        if kind == "binding":
            names_node = node.child_by_field_name("attrpath")
            names = attr_names(tree, names_node) if names_node is not None else []
            deeper(path, len(names))
            inner = path + names
            for child in children:
                if child.type == "attrpath":
                    continue
                pushed.append((child, inner, node))
        elif kind == "list_expression":
            index = 0
            deeper(path, 1)
            for child in children:
                if child.is_named and child.type != "comment":
                    pushed.append((child, [*path, f"[{index}]"], binding))
                    index += 1
        elif kind == "attrpath":
            continue
        else:
            pushed = [(child, path, binding) for child in children]
        stack.extend(reversed(pushed))


def strings(tree: Tree) -> list[NixString]:
    """Every string literal used as a value (attribute names excluded), source order."""
    return [literal(tree, node, path, binding) for node, path, binding in string_nodes(tree)]


def string_from(tree: Tree, node: Node, attrpath: list[str], binding: Node | None) -> NixString:
    """The :class:`NixString` of a node from :func:`string_nodes` (path already known)."""
    return literal(tree, node, attrpath, binding)


def string_at(tree: Tree, node: Node) -> NixString:
    """The :class:`NixString` of one string node."""
    return literal(tree, node, path_of(tree, node), _enclosing_binding(node))


# ---------------------------------------------------------------------------
# navigating modules
# ---------------------------------------------------------------------------


def _module_walk(tree: Tree) -> tuple[Node | None, Node | None]:
    """(the innermost function, the expression after it) on the way from a file's
    expression through its functions, ``let`` and ``with``."""
    node, function = unwrap(expression_root(tree)), None
    for _ in range(8):
        if node is None or node.type not in _MODULE_SCOPES:
            break
        function = node if node.type == "function_expression" else function
        node = unwrap(node.child_by_field_name("body"))
    return function, node


_MODULE_SCOPES = ("function_expression", "let_expression", "with_expression")


def module_function(tree: Tree) -> Node | None:
    """The ``{ … }:`` function a module is, or None when it is a bare attrset: the
    innermost one, so that of a file of flake inputs returning a module (``{ self, ...
    }: { config, ... }: { … }``, ``import ./box.nix inputs``) is the inner one."""
    return _module_walk(tree)[0]


def module_body(tree: Tree) -> Node | None:
    """The attrset a NixOS module returns (through functions and ``let``/``with``)."""
    body = _module_walk(tree)[1]
    return body if body is not None and body.type in ATTRSETS else None


def config_body(tree: Tree, top: Node) -> Node | None:
    """Where a module's option values go: ``top`` itself, or the ``config`` attrset of a
    module that declares ``options`` or sets ``config = …`` (``{ imports; config; }``:
    such a module may have no other top-level keys)."""
    names = [binding_names(tree, b) or [""] for b in bindings_of(top)]
    if not any(n[0] == "options" or n == ["config"] for n in names):
        return top
    inner = find_option(tree, top, ["config"])
    value = mkif_body(tree, unwrap(inner.child_by_field_name("expression"))) if inner else None
    return value if value is not None and value.type in ATTRSETS else None


def bindings_of(attrset: Node) -> list[Node]:
    """The ``binding`` nodes of an attrset or ``let`` (``inherit`` left out)."""
    out: list[Node] = []
    for child in attrset.named_children:
        if child.type == "binding_set":
            out.extend(c for c in child.named_children if c.type == "binding")
    return out


def binding_names(tree: Tree, binding: Node, resolve: Resolver | None = None) -> list[str] | None:
    """The names a binding sets (:func:`static_attr_names` of its attrpath)."""
    path = binding.child_by_field_name("attrpath")
    return static_attr_names(tree, path, resolve) if path is not None else None


def attrset_entries(tree: Tree, node: Node) -> Iterator[tuple[list[str] | None, Node, Node]]:
    """(names or None when computed, value node, binding node) of an attrset or ``let``.
    ``inherit a b;`` yields (["a"], identifier node, inherit node) per name."""
    for child in node.named_children:
        if child.type != "binding_set":
            continue
        for b in child.named_children:
            if b.type == "binding":
                path = b.child_by_field_name("attrpath")
                value = b.child_by_field_name("expression")
                if path is not None and value is not None:
                    yield static_attr_names(tree, path), value, b
            elif b.type == "inherit":
                attrs = b.child_by_field_name("attrs")
                for ident in attrs.named_children if attrs is not None else []:
                    if ident.type == "identifier":
                        yield [node_text(tree, ident)], ident, b


def path_below(
    tree: Tree, node: Node, top: Node, resolve: Resolver | None = None
) -> list[str] | None:
    """The attribute path from ``top`` (an attrset) down to ``node``.

    List elements appear as ``[i]``.  None when ``node`` is not inside ``top``
    through plain bindings and lists (for example inside a function call).
    """
    parts: list[str] = []
    current = node
    while current is not None and current.id != top.id:
        parent = current.parent
        if parent is None:
            return None
        if parent.type == "binding":
            if parent.child_by_field_name("expression") is None or (
                parent.child_by_field_name("expression").id != current.id
            ):
                return None
            names = binding_names(tree, parent, resolve)
            if names is None:
                return None
            parts[:0] = names
            current = parent.parent  # binding_set
            if current is None or current.type != "binding_set":
                return None
            current = current.parent  # attrset
            if current is None:
                return None
            if current.id == top.id:
                return parts
            if current.type not in ATTRSETS:
                return None
            continue
        if parent.type == "list_expression":
            index = [c.id for c in parent.named_children].index(current.id)
            parts.insert(0, f"[{index}]")
            current = parent
            continue
        if parent.type == "parenthesized_expression":
            current = parent
            continue
        if parent.type == "with_expression" and parent.named_children[-1].id == current.id:
            current = parent  # (`script = with pkgs; ''…''`: the body is the option's value)
            continue
        wrapped = priority_call(tree, current)  # lib.mkDefault "…": still the option's
        if wrapped is not None:
            current = wrapped
            continue
        return None
    return parts if current is not None else None


def iter_bindings(tree: Tree, top: Node) -> Iterator[tuple[list[str], Node]]:
    """Every binding below ``top`` (through attrsets and lists) with its full path."""
    stack: list[tuple[list[str], Node]] = [([], top)]
    while stack:
        prefix, node = stack.pop()
        node = unwrap(node)
        if node is None:
            continue
        if node.type in ATTRSETS:
            for binding in reversed(bindings_of(node)):
                names = binding_names(tree, binding)
                if names is None:
                    continue
                full = prefix + names
                yield full, binding
                value = binding.child_by_field_name("expression")
                if value is not None:
                    stack.append((full, value))
        elif node.type == "list_expression":
            for i, element in reversed(list(enumerate(node.named_children))):
                stack.append(([*prefix, f"[{i}]"], element))


def find_option(tree: Tree, top: Node, path: Sequence[str]) -> Node | None:
    """The binding that sets exactly ``path`` (as one of possibly several segments)."""
    for full, binding in iter_bindings(tree, top):
        if full == list(path):
            return binding
    return None


def container_of(tree: Tree, top: Node, path: Sequence[str]) -> tuple[Node, list[str]]:
    """The deepest existing attrset literal on the way to ``path`` and the rest."""
    best: tuple[Node, list[str]] = (top, list(path))
    for full, binding in iter_bindings(tree, top):
        if len(full) < len(path) and list(path[: len(full)]) == full:
            value = unwrap(binding.child_by_field_name("expression"))
            if (
                value is not None
                and value.type in ATTRSETS
                and len(full) > len(path) - len(best[1])
            ):
                best = (value, list(path[len(full) :]))
    return best


def host_names(
    tree: Tree, base: Callable[[Binding], int] | None = None
) -> list[tuple[Binding, str | None]]:
    """Every ``networking.hostName = …;`` a module sets (also under ``config``): the
    binding and the value of its plain string literal (None for anything else).
    ``base``: how many names of a binding's path lead to its module (an inline one)."""
    out: list[tuple[Binding, str | None]] = []
    for b in bindings(tree):  # (under `config`, `config = mkMerge [ … ]`, `imports`)
        if option_path(b, base(b) if base is not None else 0) == ["networking", "hostName"]:
            out.append((b, string_value(tree, unwrap(b.value))))
    return out
