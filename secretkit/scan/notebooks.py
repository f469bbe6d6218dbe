"""Jupyter notebooks: a code cell's lines are JSON strings (``"API_KEY = \\"…\\"\\n",``),
whose escaped quotes the text reader does not read as code.  Each string of a cell's
``source`` is decoded and read as a line of Python (:func:`notebook_hits`); a hit is
mapped back to the bytes of the notebook that hold it."""

from __future__ import annotations

import re
from collections.abc import Callable

from secretkit.lazy_re import lazy
from secretkit.scan.hits import Hit

# a cell's source: a list of JSON strings (one per line of code), or one string
_SOURCE = lazy(r'"source"\s*:\s*(\[?)')
_STRING = lazy(r'\s*"((?:[^"\\\n]|\\.)*)"\s*(,?)')
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _decoded(raw: str) -> tuple[str, list[int]] | None:
    """A JSON string's content decoded, with the index in ``raw`` of each character
    (and of its end); None when it is not valid JSON."""
    out: list[str] = []
    where: list[int] = []
    i = 0
    while i < len(raw):
        where.append(i)
        if raw[i] != "\\":
            out.append(raw[i])
            i += 1
        elif raw[i + 1 : i + 2] == "u":
            try:
                out.append(chr(int(raw[i + 2 : i + 6], 16)))
            except ValueError:
                return None
            i += 6
        elif raw[i + 1 : i + 2] in _ESCAPES:
            out.append(_ESCAPES[raw[i + 1]])
            i += 2
        else:
            return None
    where.append(len(raw))
    return "".join(out), where


def _strings(text: str) -> list[re.Match[str]]:
    """The JSON strings of every cell's ``source``."""
    out = []
    for m in _SOURCE.finditer(text):
        at, listed = m.end(), bool(m.group(1))
        while (found := _STRING.match(text, at)) is not None:
            out.append(found)
            at = found.end()
            if not listed or not found.group(2):
                break
    return out


def notebook_hits(text: str, read_line: Callable[[str], list[Hit]]) -> list[Hit]:
    """The hits of a notebook's cell lines, each read by ``read_line`` (as Python),
    as character offsets into ``text``, the notebook's JSON."""
    out: list[Hit] = []
    for m in _strings(text):
        raw = m.group(1)
        if "\\" not in raw:
            continue  # (no escape: the text reader read the line as it is)
        decoded = _decoded(raw)
        if decoded is None:
            continue
        line, where = decoded
        for h in read_line(line):
            start, end = m.start(1) + where[h.start], m.start(1) + where[h.end]
            value = line[h.start : h.end]
            shown = value if value != text[start:end] else None
            out.append(Hit(start, end, h.rule, h.kind, h.severity, h.attrpath, shown))
    return out
