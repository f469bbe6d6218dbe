"""Conditions a host's definition decides statically: ``if darwin then … else …`` and
``lib.optionals isWSL [ … ]`` in a helper like ``mkSystem name { darwin = true; }``.

Only what the reading knows is decided: ``true``/``false`` (unbound names), a name
bound to one (a function's argument, a formal's default), ``!``, ``&&`` and ``||``.
Anything else is not known (None), and the caller notes what it cannot follow.
"""

from __future__ import annotations

from secretkit.nix import cst
from secretkit.nix.hosts.values import Val

_MAX_DEPTH = 16
_OPTIONAL = ("optional", "optionals")  # lib.optional cond x = [ x ] or [ ]


def truth(v: Val, depth: int = 0) -> bool | None:
    """The boolean ``v`` is, when the reading knows it, else None."""
    node = cst.unwrap(v.node)
    if node is None or depth > _MAX_DEPTH:
        return None
    if node.type == "variable_expression":
        name = v.file.text(node)
        bound = v.scope.get(name)
        if isinstance(bound, Val):
            return truth(bound, depth + 1)
        if name not in v.scope and name in ("true", "false"):
            return name == "true"
        return None
    if node.type == "unary_expression":
        op, arg = node.child_by_field_name("operator"), node.child_by_field_name("argument")
        if op is None or arg is None or v.file.text(op) != "!":
            return None
        inner = truth(Val(arg, v.file, v.scope), depth + 1)
        return None if inner is None else not inner
    if node.type == "binary_expression":
        op = node.child_by_field_name("operator")
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if op is None or left is None or right is None:
            return None
        a = truth(Val(left, v.file, v.scope), depth + 1)
        b = truth(Val(right, v.file, v.scope), depth + 1)
        if v.file.text(op) == "&&":
            return False if False in (a, b) else (True if a is b is True else None)
        if v.file.text(op) == "||":
            return True if True in (a, b) else (False if a is b is False else None)
    return None


def branch(v: Val) -> Val | None:
    """The branch an ``if`` takes, when its condition is known, else None."""
    condition = v.node.child_by_field_name("condition")
    taken = truth(Val(condition, v.file, v.scope)) if condition is not None else None
    if taken is None:
        return None
    child = v.node.child_by_field_name("consequence" if taken else "alternative")
    return Val(child, v.file, v.scope) if child is not None else None


def optional_list(v: Val) -> tuple[bool, Val | None] | None:
    """``lib.optionals cond list`` / ``lib.optional cond x``, when ``cond`` is known:
    ``(True, list)`` / ``(False, x)``, or ``(…, None)`` when ``cond`` is false (an empty
    list); None when ``v`` is neither or ``cond`` is not known."""
    node = v.node
    if node.type != "apply_expression":
        return None
    inner = node.child_by_field_name("function")
    arg = node.child_by_field_name("argument")
    if inner is None or arg is None or inner.type != "apply_expression":
        return None
    head = inner.child_by_field_name("function")
    cond = inner.child_by_field_name("argument")
    name = cst.dotted_name(v.file, head) if head is not None else None
    if name is None or cond is None or name.split(".")[-1] not in _OPTIONAL:
        return None
    if "." not in name and isinstance(v.scope.get(name), Val):
        return None  # (a function of the repository's own, named the same)
    taken = truth(Val(cond, v.file, v.scope))
    if taken is None:
        return None
    whole = name.split(".")[-1] == "optionals"
    return whole, Val(arg, v.file, v.scope) if taken else None
