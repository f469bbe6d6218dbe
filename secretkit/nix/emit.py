"""sops-nix snippets and where to put them in a module.

Two halves:

* text builders — ``sops.secrets."<name>"`` declarations, ``sops.templates``,
  references (``config.sops.secrets."<name>".path``, placeholders), Nix string
  and attribute quoting;
* placement on the tree-sitter tree — the attrset a module returns, the full
  attribute path of a node, the deepest existing attrset for an option path,
  and :func:`ensure_option` / :func:`insert_bindings` that turn all of that into
  :class:`~secretkit.nix.edits.Edit` insertions with the surrounding indentation.

Nothing here evaluates Nix; everything works on the concrete syntax tree from
:mod:`secretkit.nix.cst` and byte offsets into the original source.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from secretkit.nix.edits import Edit

Node = Any  # a tree_sitter.Node (the grammar's node types are strings)

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_'-]*$")
_KEYWORDS = frozenset({"if", "then", "else", "let", "in", "with", "rec", "inherit", "assert", "or"})
ATTRSETS = ("attrset_expression", "rec_attrset_expression")


class Tree(Protocol):
    """What :mod:`secretkit.nix.cst` hands out: the root node and the bytes."""

    @property
    def root(self) -> Node: ...

    @property
    def source(self) -> bytes: ...


# ---------------------------------------------------------------------------
# Text builders
# ---------------------------------------------------------------------------


def nix_string(text: str) -> str:
    """A double-quoted Nix string literal with the value ``text`` exactly."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${")
    out = out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{out}"'


def attr(name: str) -> str:
    """An attribute name: bare when it is an identifier, quoted otherwise."""
    if _IDENT.match(name) and name not in _KEYWORDS:
        return name
    return nix_string(name)


def attrpath(names: Sequence[str]) -> str:
    return ".".join(attr(n) for n in names)


def _named(path: Sequence[str]) -> str:
    """An attribute path whose last element (a secret or template name) is always quoted."""
    return ".".join([*(attr(p) for p in path[:-1]), nix_string(path[-1])])


def secret_ref(name: str) -> str:
    """``config.sops.secrets."<name>".path`` — a string path, never a path literal."""
    return f"config.sops.secrets.{nix_string(name)}.path"


def template_ref(name: str) -> str:
    return f"config.sops.templates.{nix_string(name)}.path"


def placeholder(name: str) -> str:
    """The interpolation that sops-nix replaces by the value inside a template."""
    return f"${{config.sops.placeholder.{nix_string(name)}}}"


@dataclass(frozen=True)
class SecretDecl:
    """One ``sops.secrets."<name>"`` declaration.

    ``sops_file`` and ``owner``/``group`` are Nix expressions (already quoted
    where they are strings), so a declaration can use
    ``config.services.syncthing.user`` or ``../secrets + "/${…}.yaml"``.
    """

    name: str
    sops_file: str | None  # None: sops.defaultSopsFile already names the file
    owner: str | None = None
    group: str | None = None
    mode: str | None = None
    restart_units: tuple[str, ...] = ()
    needed_for_users: bool = False
    path: str | None = None

    def option(self) -> list[str]:
        return ["sops", "secrets", self.name]

    def lines(self, rest: Sequence[str] | None = None) -> list[str]:
        """The binding; ``rest`` is the attribute path below its attrset (default: all)."""
        head = _named(self.option() if rest is None else rest)
        body = [] if self.sops_file is None else [f"sopsFile = {self.sops_file};"]
        if self.owner is not None:
            body.append(f"owner = {self.owner};")
        if self.group is not None:
            body.append(f"group = {self.group};")
        if self.mode is not None:
            body.append(f"mode = {nix_string(self.mode)};")
        if self.path is not None:
            body.append(f"path = {nix_string(self.path)};")
        if self.needed_for_users:
            body.append("neededForUsers = true;")
        if self.restart_units:
            units = " ".join(nix_string(u) for u in self.restart_units)
            body.append(f"restartUnits = [ {units} ];")
        return [
            f"{head} = {{",
            *("  " + line for line in body),
            "};",
        ]


@dataclass
class TemplateDecl:
    """One ``sops.templates."<name>"`` with its content lines (placeholders inside)."""

    name: str
    content: list[str] = field(default_factory=list)
    owner: str | None = None
    group: str | None = None
    mode: str | None = None
    path: str | None = None
    restart_units: tuple[str, ...] = ()

    def option(self) -> list[str]:
        return ["sops", "templates", self.name]

    def lines(self, rest: Sequence[str] | None = None) -> list[str]:
        head = _named(self.option() if rest is None else rest)
        out = [f"{head} = {{", "  content = ''"]
        out += ["    " + line for line in self.content]
        out.append("  '';")
        if self.owner is not None:
            out.append(f"  owner = {self.owner};")
        if self.group is not None:
            out.append(f"  group = {self.group};")
        if self.mode is not None:
            out.append(f"  mode = {nix_string(self.mode)};")
        if self.path is not None:
            out.append(f"  path = {nix_string(self.path)};")
        if self.restart_units:
            units = " ".join(nix_string(u) for u in self.restart_units)
            out.append(f"  restartUnits = [ {units} ];")
        out.append("};")
        return out


def indented_string_line(text: str) -> str:
    """Escape ``text`` for a line of a ``''…''`` string (``${`` and ``''``)."""
    return text.replace("''", "'''").replace("${", "''${")


# ---------------------------------------------------------------------------
# Placement on the tree
# ---------------------------------------------------------------------------


def text_of(tree: Tree, node: Node) -> str:
    return tree.source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def unwrap(node: Node) -> Node:
    while node is not None and node.type == "parenthesized_expression":
        node = node.named_children[0] if node.named_children else None
    return node


def expression_root(tree: Tree) -> Node | None:
    root = tree.root
    if root.type == "source_code":
        named = [c for c in root.named_children if c.type != "comment"]
        return named[0] if named else None
    return root


def module_function(tree: Tree) -> Node | None:
    """The ``{ … }:`` function a module is, or None when it is a bare attrset."""
    node = unwrap(expression_root(tree))
    return node if node is not None and node.type == "function_expression" else None


def module_body(tree: Tree) -> Node | None:
    """The attrset a NixOS module returns (through one function and ``let``/``with``)."""
    node = unwrap(expression_root(tree))
    for _ in range(8):
        if node is None:
            return None
        if node.type in ATTRSETS:
            return node
        if node.type in ("function_expression", "let_expression", "with_expression"):
            node = unwrap(node.child_by_field_name("body"))
            continue
        return None
    return None


Resolver = Callable[[Node], "str | None"]
"""Gives the string value of an expression inside ``${…}`` of an attribute name
(``config.my.user``, a let-bound name), or None when it cannot be known."""


def config_body(tree: Tree, top: Node) -> Node | None:
    """Where a module's option values go: ``top`` itself, or the ``config`` attrset of a
    module that declares ``options`` (such a module may have no other top-level keys)."""
    if not any((binding_names(tree, b) or [""])[0] == "options" for b in bindings_of(top)):
        return top
    inner = find_option(tree, top, ["config"])
    value = unwrap(inner.child_by_field_name("expression")) if inner else None
    return value if value is not None and value.type in ATTRSETS else None


def attr_names(
    tree: Tree, attrpath_node: Node, resolve: Resolver | None = None
) -> list[str] | None:
    """The names of an ``attrpath`` node; None if a part is a dynamic interpolation
    that ``resolve`` (when given) cannot turn into a string."""
    names: list[str] = []
    for part in attrpath_node.named_children:
        if part.type == "identifier":
            names.append(text_of(tree, part))
        elif part.type == "string_expression":
            if all(c.type in ("string_fragment", "escape_sequence") for c in part.named_children):
                names.append(_unquote(text_of(tree, part)))
                continue
            if resolve is None:
                return None
            pieces: list[str] = []
            for c in part.named_children:
                if c.type == "interpolation":
                    inner = c.named_children[0] if c.named_children else None
                    value = resolve(inner) if inner is not None else None
                    if value is None:
                        return None
                    pieces.append(value)
                else:
                    pieces.append(_unquote('"' + text_of(tree, c) + '"'))
            names.append("".join(pieces))
        elif part.type == "interpolation" and resolve is not None:
            inner = part.named_children[0] if part.named_children else None
            value = resolve(inner) if inner is not None else None
            if value is None:
                return None
            names.append(value)
        else:
            return None
    return names


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m[1], m[1]), body)


def bindings_of(attrset: Node) -> list[Node]:
    out: list[Node] = []
    for child in attrset.named_children:
        if child.type == "binding_set":
            out.extend(c for c in child.named_children if c.type == "binding")
    return out


def binding_names(tree: Tree, binding: Node, resolve: Resolver | None = None) -> list[str] | None:
    path = binding.child_by_field_name("attrpath")
    return attr_names(tree, path, resolve) if path is not None else None


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


def line_indent(source: bytes, offset: int) -> str:
    start = source.rfind(b"\n", 0, offset) + 1
    prefix = source[start:offset]
    return prefix.decode() if prefix.strip() == b"" else ""


def insert_bindings(tree: Tree, attrset: Node, lines: Sequence[str]) -> Edit:
    """Insert ``lines`` (one or more complete bindings) at the end of ``attrset``."""
    existing = bindings_of(attrset)
    source = tree.source
    if existing:
        last = existing[-1]
        indent = line_indent(source, existing[0].start_byte)
        if not indent and b"\n" not in source[attrset.start_byte : attrset.end_byte]:
            text = " " + " ".join(line.strip() for line in lines)
            return Edit(last.end_byte, last.end_byte, text)
        text = "".join("\n" + (indent + line if line else "") for line in lines)
        return Edit(last.end_byte, last.end_byte, text)
    # An empty attrset: put the bindings between the braces.
    open_brace = (
        attrset.children[0] if attrset.type == "attrset_expression" else attrset.children[1]
    )
    outer = line_indent(source, attrset.start_byte)
    inner = outer + "  "
    text = "".join("\n" + inner + line for line in lines) + "\n" + outer
    close = attrset.children[-1]
    return Edit(open_brace.end_byte, close.start_byte, text)


@dataclass(frozen=True)
class OptionState:
    """What :func:`ensure_option` found: the edit to make, or the existing value."""

    edit: Edit | None
    existing: str | None  # source text of the current value when the option is set


def ensure_option(tree: Tree, top: Node, path: Sequence[str], expr: str) -> OptionState:
    """Set ``path = expr;`` in the deepest existing attrset unless it is set already."""
    found = find_option(tree, top, path)
    if found is not None:
        value = found.child_by_field_name("expression")
        return OptionState(None, text_of(tree, value) if value is not None else "")
    container, rest = container_of(tree, top, path)
    return OptionState(insert_bindings(tree, container, [f"{attrpath(rest)} = {expr};"]), None)


def ensure_config_arg(tree: Tree) -> Edit | str | None:
    """Make the module a function of ``config``.

    Returns the edit (None when it already is one), or a reason string when it
    cannot be done safely (``args: …`` without a formals set).
    """
    function = module_function(tree)
    if function is None:
        body = module_body(tree)
        if body is None:
            return "the file is not a module attrset"
        return Edit(body.start_byte, body.start_byte, "{ config, ... }:\n")
    formals = function.child_by_field_name("formals")
    if formals is None:
        return "the module is a function without a formals set ({ config, ... }:)"
    names = [
        text_of(tree, f.child_by_field_name("name"))
        for f in formals.named_children
        if f.type == "formal" and f.child_by_field_name("name") is not None
    ]
    if "config" in names:
        return None
    first = next((c for c in formals.named_children if c.type in ("formal", "ellipses")), None)
    if first is None:  # `{ }:`
        return Edit(formals.start_byte + 1, formals.end_byte - 1, " config, ... ")
    return Edit(first.start_byte, first.start_byte, "config, ")


def append_to_indented_string(tree: Tree, string: Node, lines: Sequence[str]) -> Edit | None:
    """Add ``lines`` at the end of a ``''…''`` string (before its closing line).

    None when the string does not end with a newline followed by the closing
    quotes (then the caller refuses rather than guess the layout).
    """
    source = tree.source
    close = string.end_byte - 2
    line_start = source.rfind(b"\n", string.start_byte, close) + 1
    if line_start <= string.start_byte or source[line_start:close].strip(b" \t"):
        return None
    body = source[string.start_byte + 2 : line_start]
    indents = [len(line) - len(line.lstrip(b" ")) for line in body.split(b"\n") if line.strip()]
    indent = " " * (min(indents) if indents else 2)
    text = "".join(indent + line + "\n" for line in lines)  # lines are Nix text already
    return Edit(line_start, line_start, text)
