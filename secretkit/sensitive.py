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
            if isinstance(a, str) and isinstance(b, str):  # (surrogates: a binary value's)
                return hmac.compare_digest(
                    a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
                )
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
        shown = "".join(_printed(c) for c in shown)
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


# Tokens found in the names of files, directories and refs: a name is printed by many
# messages (a finding's path, a file skipped, a dirty work tree), and every one of
# them must show such a token as its preview.  What writes the program's output
# (:func:`secretkit.entry.main`, a report written with ``--output``) passes it
# through :func:`unshown`.
_UNSHOWN: dict[str, str] = {}  # value -> its preview


def never_shown(value: str) -> None:
    """From now on, output shows ``value`` (a token in a name) only as its preview."""
    if len(value) >= 8:  # (a token: never a word a message needs)
        _UNSHOWN.setdefault(value, preview(value))


def unshown(text: str) -> str:
    """``text`` with every value :func:`never_shown` was given as its preview."""
    if not _UNSHOWN or not text:
        return text
    for value in sorted(_UNSHOWN, key=len, reverse=True):
        if value in text:
            text = text.replace(value, _UNSHOWN[value])
    return text


class UnshownStream:
    """A text stream that writes what it is given through :func:`unshown`; anything
    else is the stream's own."""

    def __init__(self, stream: object) -> None:
        self._stream = stream

    def write(self, text: object) -> object:
        return self._stream.write(unshown(text) if isinstance(text, str) else text)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def _printed(char: str) -> str:
    """``char`` as a preview shows it: itself, its escape, or for a byte a binary value
    carries as a surrogate escape the byte (``\\xff``, not ``\\udcff``)."""
    if char.isprintable():
        return char
    if "\udc80" <= char <= "\udcff":
        return f"\\x{ord(char) - 0xDC00:02x}"
    return repr(char)[1:-1]
