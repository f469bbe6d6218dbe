"""Whose value a Nix string literal is, read from the syntax between it and its name.

A secret-named option's literal is reported when the literal *is* the option's value,
not an argument some call turns into something else.  The syntax in between can be
transparent (parentheses, ``if``/``else`` branches, lists, ``let``/``with`` bodies),
a ``lib.mk*`` wrapper that passes its last argument through (``mkForce "…"``, also
``mkOverride 90 "…"`` and ``mkIf cond "…"``), or a concatenation of literals
(``"Hk4V" + "n8Qz"``: every part is the secret's).  Besides bindings, a function
argument's default (``{ smtpPassword ? "…", ... }:``) is named by the argument, and
an option's ``default`` (``apiToken = lib.mkOption { default = "…"; }``) by the option.

Everything read here lies inside the innermost binding (or formal) holding the literal,
or inside the binding of the option around a ``default``: the delta scan
(:mod:`secretkit.scan.nix_delta`) re-reads a literal whenever any of it changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from secretkit.lazy_re import lazy

# Function applications that pass their last argument through unchanged (lib.mk*).
_WRAPPERS = lazy(
    r"(?:^|\.)(?:mk(?:Default|Force|Override|OptionDefault|Before|After|If|"
    r"Merge|Order)|toString|optionalString)$"
)
_MK_OPTION = lazy(r"(?:^|\.)mkOption$")
_THROUGH = frozenset(
    {
        "parenthesized_expression",
        "if_expression",
        "list_expression",
        "let_expression",
        "with_expression",
        "assert_expression",
    }
)
_STRINGS = ("string_expression", "indented_string_expression")


@dataclass(frozen=True)
class Owner:
    """The binding or formal a literal is the value of, and the literals of the
    all-literal concatenation holding it (``()`` when it stands alone)."""

    node: Any
    parts: tuple[Any, ...] = ()


def owner(node: Any) -> Owner | None:
    """The binding (or function argument, ``formal``) whose value the string ``node``
    is, through the transparent syntax of the module docstring; None when it is an
    argument of some other call, an ``if``'s condition, or part of an expression."""
    child: Any = node
    parent: Any = node.parent
    parts: tuple[Any, ...] = ()
    while parent is not None:
        kind = parent.type
        if kind == "binding":
            return Owner(parent, parts)
        if kind == "formal":
            return Owner(parent, parts) if child != parent.child_by_field_name("name") else None
        if kind == "apply_expression":
            function = parent.child_by_field_name("function")
            if function is None or child == function or not _WRAPPERS.search(_head(function)):
                return None
        elif kind == "binary_expression":
            if parts:
                return None  # (the whole chain was taken at its first operator)
            top, parts = _concatenation(parent)
            if not parts:
                return None
            child, parent = top, top.parent
            continue
        elif kind not in _THROUGH:
            return None
        if kind == "if_expression" and parent.child_by_field_name("condition") == child:
            return None
        child = parent
        parent = parent.parent
    return None


def _head(function: Any) -> str:
    """The name of the function applied (``lib.mkOverride`` of ``lib.mkOverride 90``)."""
    while function.type == "apply_expression":
        inner = function.child_by_field_name("function")
        if inner is None:
            break
        function = inner
    text: str = function.text.decode("utf-8", "replace")
    words = text.split()
    return words[-1] if words else text


def _concatenation(node: Any) -> tuple[Any, tuple[Any, ...]]:
    """The whole ``a + b + …`` chain holding the binary expression ``node`` and its
    literals in source order, when every operand is a string literal without
    interpolations (in parentheses or not); else ``(node, ())``."""
    top = node
    while top.parent is not None and _plus(top.parent):
        top = top.parent
    parts: list[Any] = []
    stack = [top]
    while stack:
        current = stack.pop()
        while current.type == "parenthesized_expression" and current.named_child_count == 1:
            current = current.named_children[0]
        if _plus(current):
            left = current.child_by_field_name("left")
            right = current.child_by_field_name("right")
            if left is None or right is None:
                return node, ()
            stack += [right, left]
        elif current.type in _STRINGS and not any(
            c.type == "interpolation" for c in current.children
        ):
            parts.append(current)
        else:
            return node, ()
    return top, tuple(parts)


def _plus(node: Any) -> bool:
    if node.type != "binary_expression":
        return False
    operator = node.child_by_field_name("operator")
    return operator is not None and operator.type == "+"


def formal_default_name(node: Any) -> str | None:
    """The name of the function argument whose default the string ``node`` is
    (``smtpPassword`` of ``{ smtpPassword ? "…", ... }:``), else None."""
    formal = node.parent
    if formal is None or formal.type != "formal" or formal.child_by_field_name("default") != node:
        return None
    name = formal.child_by_field_name("name")
    return None if name is None else name.text.decode("utf-8", "replace")


def option_of_default(binding: Any) -> bool:
    """Whether ``binding`` (a ``default = …;``) is in the attribute set handed to
    ``mkOption``: its value is the option's (named by the binding above)."""
    if binding is None:
        return False
    attrs = binding.parent.parent if binding.parent is not None else None
    call = attrs.parent if attrs is not None else None
    if call is None or call.type != "apply_expression":
        return False
    if call.child_by_field_name("argument") != attrs:
        return False
    function = call.child_by_field_name("function")
    return function is not None and _MK_OPTION.search(_head(function)) is not None


def is_formal_default(data: bytes, at: int) -> bool:
    """Whether the literal at byte ``at`` follows a ``?`` (a cheap test before the
    syntax is asked: a function argument's default does, :func:`formal_default_name`)."""
    j = at - 1
    while j >= 0 and data[j] in b" \t\r\n":
        j -= 1
    return j >= 0 and data[j] == 63  # "?"


# Attributes that document an option where an option is declared (mkOption { … })
_DOC_NAMES = frozenset(
    {"description", "example", "defaultText", "longDescription", "literalExample"}
)
_DOC_CALLS = lazy(
    r"(?:^|\.)(?:mk(?:Option|EnableOption|PackageOption(?:MD)?|SinkUndeclaredOptions)|"
    r"literal(?:Expression|Example|MD)|mdDoc)$"
)


def documentation(node: Any) -> bool:
    """Whether the string ``node`` documents rather than configures: under
    ``description``, ``example``, ``defaultText`` … of the set an option is declared
    with (``mkOption { example = …; }``), or under the ``meta`` of a set a function
    other than a ``lib.mk*`` wrapper is given (a package's ``mkDerivation { meta = …; }``)
    or of a module.  A service's own setting that happens to be called ``meta`` or
    ``description`` (``settings.meta.api_token``) is configuration."""
    current = node.parent
    while current is not None:
        if current.type == "binding":
            names = _binding_names(current)
            attrs = current.parent.parent if current.parent is not None else None
            call = _call_of(attrs)
            if names[:1] == ["meta"] and (
                (call is not None and not _WRAPPERS.search(call)) or _module_top(attrs)
            ):
                return True
            if call is not None and _DOC_CALLS.search(call) and not _DOC_NAMES.isdisjoint(names):
                return True
        current = current.parent
    return False


def _binding_names(binding: Any) -> list[str]:
    path = binding.child_by_field_name("attrpath")
    if path is None:
        return []
    return [part.text.decode("utf-8", "replace").strip('"') for part in path.named_children]


def _call_of(attrs: Any) -> str | None:
    """The name of the function the attribute set ``attrs`` is given to, else None."""
    child = attrs
    parent = attrs.parent if attrs is not None else None
    while parent is not None and parent.type == "parenthesized_expression":
        child, parent = parent, parent.parent
    if parent is None or parent.type != "apply_expression":
        return None
    if parent.child_by_field_name("argument") != child:
        return None
    function = parent.child_by_field_name("function")
    return _head(function) if function is not None else None


def _module_top(attrs: Any) -> bool:
    """The attribute set a module file is (or returns, after its arguments)."""
    parent = attrs.parent if attrs is not None else None
    return parent is not None and parent.type in ("source_code", "function_expression")
