"""Go RE2 patterns (sops' ``path_regex``, ``encrypted_regex``…) as Python patterns.

sops compiles these with Go's ``regexp``.  Python's ``re`` reads many of them
differently without an error: ``[[:alpha:]]`` is a set of ``[:alph`` followed by
``]``, ``$`` also matches before a final newline, ``\\d``/``\\w``/``\\s`` are
Unicode, ``{,3}`` is a repetition (in Go a literal).  :func:`translate` rewrites the
pattern so it means what it means to sops, and raises :class:`Re2Error` for what
Python cannot express or Go does not accept (``\\pL``, ``(?U)``, look-arounds,
back-references) — an error, never a pattern that silently matches nothing.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache

POSIX_CLASSES = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_PERL = {"d": "0-9", "s": "\\t\\n\\f\\r ", "w": "0-9A-Za-z_"}
_MAX_REPEAT = 1000


class Re2Error(ValueError):
    """The pattern is not valid RE2, or has no Python equivalent."""


def _class(pattern: str, i: int) -> tuple[str, int]:
    """Translate the character class starting at ``pattern[i] == '['``."""
    out = ["["]
    i += 1
    if i < len(pattern) and pattern[i] == "^":
        out.append("^")
        i += 1
    first = True
    while i < len(pattern):
        ch = pattern[i]
        if ch == "]" and not first:
            out.append("]")
            return "".join(out), i + 1
        first = False
        if ch == "[" and pattern.startswith("[:", i):
            end = pattern.find(":]", i + 2)
            if end < 0:
                raise Re2Error("unterminated [: :] class")
            name = pattern[i + 2 : end]
            negated = name.startswith("^")
            name = name.lstrip("^")
            if name not in POSIX_CLASSES:
                raise Re2Error(f"unknown POSIX class [:{name}:]")
            if negated:
                raise Re2Error(f"a negated POSIX class [:^{name}:] inside [...] is not supported")
            out.append(POSIX_CLASSES[name])
            i = end + 2
            continue
        if ch == "\\":
            if i + 1 >= len(pattern):
                raise Re2Error("trailing backslash")
            nxt = pattern[i + 1]
            if nxt in "pP":
                raise Re2Error("Unicode classes \\p{…} are not supported")
            out.append("\\" + nxt)
            i += 2
            continue
        doubled = ch in "&~|-" and i + 1 < len(pattern) and pattern[i + 1] == ch
        if ch == "[" or doubled:
            out.append("\\" + ch)  # Python reads these as (future) set operations
            i += 1
            continue
        out.append(ch)
        i += 1
    raise Re2Error("missing closing ]")


def translate(pattern: str) -> str:
    """The Python ``re`` source (to compile with ``re.ASCII``) of an RE2 pattern."""
    out: list[str] = []
    i = 0
    multiline = False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= len(pattern):
                raise Re2Error("trailing backslash")
            nxt = pattern[i + 1]
            if nxt == "z":
                out.append("\\Z")
            elif nxt == "Q":
                end = pattern.find("\\E", i + 2)
                literal = pattern[i + 2 :] if end < 0 else pattern[i + 2 : end]
                out.append(re.escape(literal))
                i = len(pattern) if end < 0 else end + 2
                continue
            elif nxt in "pP":
                raise Re2Error("Unicode classes \\p{…} are not supported")
            elif nxt in "123456789":
                raise Re2Error("back-references are not supported by RE2")
            elif nxt in "ZCG":
                raise Re2Error(f"\\{nxt} is not supported by RE2")
            else:
                out.append("\\" + nxt)
            i += 2
            continue
        if ch == "[":
            text, i = _class(pattern, i)
            out.append(text)
            continue
        if ch == "(" and pattern.startswith("(?", i):
            rest = pattern[i + 2 :]
            if rest.startswith("P<"):
                out.append("(?P<")
                i += 4
                continue
            if rest.startswith("<") and not rest.startswith(("<=", "<!")):
                out.append("(?P<")  # Go 1.22+ spelling of a named group
                i += 3
                continue
            if rest.startswith((":", "=", "!", "<=", "<!", "P=", "P>", "#")):
                if not rest.startswith(":"):
                    raise Re2Error("look-arounds, comments and back-references are not RE2")
                out.append("(?:")
                i += 3
                continue
            flags = re.match(r"([imsU]*)(?:-([imsU]*))?([:)])", rest)
            if flags is None:
                raise Re2Error("unknown group flags")
            if "U" in (flags[1] or "") + (flags[2] or ""):
                raise Re2Error("the ungreedy flag (?U) has no Python equivalent")
            if flags[3] == ")":
                if out:  # Python accepts global flags only at the very start
                    raise Re2Error("flags (?…) after the start of the pattern are not supported")
                multiline = "m" in flags[1] and "m" not in (flags[2] or "")
            out.append("(?" + flags[0])
            i += 2 + len(flags[0])
            continue
        if ch == "$" and not multiline:
            out.append("\\Z")  # RE2: end of text (Python's $ also matches before a final \\n)
            i += 1
            continue
        if ch == "{":
            repeat = re.match(r"\{(\d+)(,(\d*))?\}", pattern[i:])
            if repeat is None:
                out.append("\\{")  # RE2: a brace that does not start a repetition is literal
                i += 1
                continue
            numbers = [int(n) for n in (repeat[1], repeat[3]) if n]
            if any(n > _MAX_REPEAT for n in numbers):
                raise Re2Error(f"repetition count over {_MAX_REPEAT}")
            out.append(repeat[0])
            i += len(repeat[0])
            continue
        out.append(ch)
        i += 1
    return "".join(out)


@lru_cache(maxsize=256)
def compile_re2(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled with RE2 meaning; :class:`Re2Error` with a reason if it cannot be."""
    source = translate(pattern)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return re.compile(source, re.ASCII)
        except (re.error, FutureWarning, DeprecationWarning) as exc:
            reason = exc.msg if isinstance(exc, re.error) else str(exc)
            raise Re2Error(reason) from None
