"""A wrapper for secret values that cannot leak by accident.

``repr``/``str``/``format`` of a :class:`Sensitive` never show the value; the
plaintext needs an explicit :meth:`Sensitive.reveal`.  :func:`preview` gives the
redacted preview used in reports (at most 4 characters of the value, fewer for
short values).
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T", str, bytes)

REDACTED = "<redacted>"


class Sensitive(Generic[T]):
    """A secret value.  Compare with ``==``; show with :func:`preview`."""

    __slots__ = ("_value",)
    _value: T

    def __init__(self, value: T) -> None:
        self._value = value

    def reveal(self) -> T:
        """The plaintext.  Call it only where the value is really needed."""
        return self._value

    def __len__(self) -> int:
        return len(self._value)

    def __repr__(self) -> str:
        return f"Sensitive({REDACTED}, len={len(self._value)})"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sensitive):
            import hmac  # (loads OpenSSL: ~3 ms a hook without a value to compare spares)

            a, b = self._value, other._value
            if isinstance(a, str) and isinstance(b, str):
                return hmac.compare_digest(a.encode(), b.encode())
            if isinstance(a, bytes) and isinstance(b, bytes):
                return hmac.compare_digest(a, b)
        return NotImplemented

    def __hash__(self) -> int:
        import hashlib

        value = self._value
        # (a value read from bytes may hold surrogate escapes: hashed all the same)
        data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
        return hash(hashlib.sha256(data).digest())

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling is how values cross to worker processes; keep it possible but explicit.
        return (Sensitive, (self._value,))


def preview(value: str | Sensitive[str], limit: int = 4) -> str:
    """A redacted preview: at most ``limit`` (≤ 4) leading characters plus ``…``.

    Short values show less so that a short password is never mostly revealed:
    one character per four, never more than ``limit``.  A line break or other control
    character among them is shown as its escape (``\\n``).
    """
    raw = value.reveal() if isinstance(value, Sensitive) else value
    shown = raw[: min(limit, 4, len(raw) // 4)]
    if not shown.isprintable():  # ("[\n  …": one line, whatever prints it)
        shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in shown)
    return shown + "…"


def shown_name(name: str) -> str:
    """A key's name as messages print it: itself, unless it looks like a generated
    value (20 characters and more, with letters and at least four digits, no word
    break but ``_``/``-``): then its :func:`preview` (a token used as a key in a sops
    file is a secret all the same)."""
    if len(name) < 20 or " " in name or "/" in name:
        return name
    digits = sum(c.isdigit() for c in name)
    letters = sum(c.isalpha() for c in name)
    return preview(name) if digits >= 4 and letters >= 4 else name
