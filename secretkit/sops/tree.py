"""The document tree every store reads into and writes from (sops' ``TreeBranch``).

* :class:`Map` — an ordered list of entries; an entry is ``(key, value)`` or a
  :class:`Comment` (a comment line inside the mapping).  Keys are ``str``;
  duplicate keys are allowed (the JSON store keeps them, like sops).
* :class:`Seq` — a list of values, where a value may also be a :class:`Comment`.
* leaves: ``str``, ``int``, ``float``, ``bool``, ``None``, ``bytes`` (sops' decrypted
  ``type:bytes``) and :class:`GoTime` (an explicit ``!!timestamp``, kept as Go's text).

:func:`walk` visits leaves in file order with the data of sops' ``walkBranch``:
the key path (sequence indices skipped) and the stack of active comments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeAlias, Union

from secretkit.errors import UserError


@dataclass(frozen=True)
class Comment:
    """A comment line, without its leading ``#`` (or ``;`` in INI)."""

    text: str
    # A comment at the end of a value's line (``key: value # text``).  As in sops it
    # is stored *before* the entry it follows; sops >= 3.13 writes it back inline.
    inline: bool = False

    def __repr__(self) -> str:
        return f"Comment(len={len(self.text)}{', inline' if self.inline else ''})"


@dataclass(frozen=True)
class GoTime:
    """A ``time.Time`` leaf, kept as its RFC 3339 ``MarshalText`` form."""

    text: str


Leaf: TypeAlias = str | int | float | bool | bytes | GoTime | None
Value: TypeAlias = Union[Leaf, "Map", "Seq", Comment]
Entry: TypeAlias = tuple[str, Value] | Comment


class Map(list[Entry]):
    """An ordered mapping: a list of ``(key, value)`` pairs and comments."""

    def keys(self) -> list[str]:
        return [entry[0] for entry in self if isinstance(entry, tuple)]

    def find(self, key: str) -> int:
        """Index of the first entry with ``key``, or -1."""
        for index, entry in enumerate(self):
            if isinstance(entry, tuple) and entry[0] == key:
                return index
        return -1

    def lookup(self, key: str) -> Value:
        index = self.find(key)
        if index < 0:
            raise KeyError(key)
        entry = self[index]
        assert isinstance(entry, tuple)
        return entry[1]


class Seq(list[Value]):
    """A sequence of values (comments allowed as elements)."""


def is_leaf(value: Value) -> bool:
    return not isinstance(value, (Map, Seq, Comment))


# (value, key path, comment stack, is_comment) -> new value
LeafFn = Callable[[Value, tuple[str, ...], list[list[str]], bool], Value]


def walk(value: Value, fn: LeafFn) -> Value:
    """Rebuild ``value`` with every leaf and comment passed through ``fn``.

    Mirrors sops' ``walkBranch``/``walkSlice``: a comment joins the innermost comment
    run and is itself a leaf (path = its container's path); a non-comment item clears
    the run; ``None`` leaves are not visited.
    """
    return _walk(value, (), [], fn)


def _walk(value: Value, path: tuple[str, ...], stack: list[list[str]], fn: LeafFn) -> Value:
    if isinstance(value, Map):
        stack = [*stack, []]
        out = Map()
        for entry in value:
            if isinstance(entry, Comment):
                stack[-1].append(entry.text)
                new = fn(entry, path, stack, True)
                text = new.text if isinstance(new, Comment) else str(new)
                out.append(Comment(text, entry.inline))
                continue
            key, child = entry
            out.append((key, _walk(child, (*path, key), stack, fn)))
            stack[-1] = []
        return out
    if isinstance(value, Seq):
        stack = [*stack, []]
        seq = Seq()
        for child in value:
            if isinstance(child, Comment):
                stack[-1].append(child.text)
                # sops stores an encrypted comment of a sequence as a plain string
                # element (walkSlice), so the result is kept as returned.
                seq.append(fn(child, path, stack, True))
                continue
            seq.append(_walk(child, path, stack, fn))
            stack[-1] = []
        return seq
    if value is None:
        return None
    return fn(value, path, stack, False)


def leaves(
    value: Value, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], Value]]:
    """``(path, leaf)`` in file order; list positions appear as ints; comments skipped."""
    if isinstance(value, Map):
        for entry in value:
            if isinstance(entry, tuple):
                yield from leaves(entry[1], (*path, entry[0]))
    elif isinstance(value, Seq):
        index = 0
        for child in value:
            if isinstance(child, Comment):
                continue
            yield from leaves(child, (*path, index))
            index += 1
    elif not isinstance(value, Comment):
        yield path, value


def to_python(value: Value) -> object:
    """Plain dicts/lists (comments dropped, later duplicate keys win)."""
    if isinstance(value, Map):
        return {entry[0]: to_python(entry[1]) for entry in value if isinstance(entry, tuple)}
    if isinstance(value, Seq):
        return [to_python(child) for child in value if not isinstance(child, Comment)]
    if isinstance(value, GoTime):
        return value.text
    return value


def from_python(value: object) -> Value:
    """Build a tree from plain dicts/lists/scalars (for programmatic documents)."""
    if isinstance(value, (Map, Seq, Comment)):
        return value
    if isinstance(value, dict):
        out = Map()
        for key, child in value.items():
            if not isinstance(key, str):
                raise UserError("only string keys are supported")
            out.append((key, from_python(child)))
        return out
    if isinstance(value, (list, tuple)):
        return Seq(from_python(child) for child in value)
    if value is None or isinstance(value, (str, int, float, bool, bytes, GoTime)):
        return value
    raise UserError(f"unsupported value type {type(value).__name__}")
