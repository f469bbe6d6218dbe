"""Passwords in a database connection string of ``Key=Value;`` pairs, for
:class:`secretkit.scan.command_detectors.CommandSecret`: ADO.NET's and ODBC's
``Server=db;User Id=sa;Password=…;`` and ``Pwd=…`` (quoted ``'…'``, ``"…"`` or ODBC's
``{…}`` too), as an ``appsettings.json``, a Nix string or an environment variable hold
them.  A libpq string's ``password=…`` between spaces is the assignment reader's
(``nix_positions.assignments``), a URL's the URL rule's.

A ``Password=`` is read as one only beside another pair it is separated from by a
``;`` (the pair before it, or the one after): ``password=x`` alone is some other
syntax's, and other rules judge it.  The pattern is tried only where a ``password`` or
``pwd`` starts (:data:`STARTS`, held to plain ``finditer`` by
``tests/scan/test_scan_match_starts.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from secretkit.lazy_re import lazy
from secretkit.scan.match_starts import finditer_named, folded, may_hold, word_starts

CONNECTION_PASSWORD = lazy(
    r"(?i)(?<![\w-])(?:password|pwd)[ \t]*=[ \t]*"
    r"(?:'([^'\n]+)'|\"([^\"\n]+)\"|\{([^}\n]+)\}|([^;'\"\n{ \t][^;'\"\n]*?))"
    r"[ \t]*(?=;|['\"]|\n|$)"
)
# the pair before, ended by ";" just before the password's key; the pair after
_PAIR_BEFORE = lazy(r"[A-Za-z][A-Za-z0-9 _]*=[^;=\n]*;[ \t]*\Z")
_PAIR_AFTER = lazy(r"[ \t]*;[ \t]*[A-Za-z][A-Za-z0-9 _]*=")


def _key_starts(text: str) -> Iterable[int] | None:
    """Where ``password`` or ``pwd`` starts, in any case (None: anywhere, when the text
    does not fold simply)."""
    low = folded(text)
    return None if low is None else word_starts(low, ("password", "pwd"))


STARTS: dict[str, tuple[re.Pattern[str], Callable[[str], Iterable[int] | None]]] = {
    "connection-password": (CONNECTION_PASSWORD, _key_starts),
}


def connection_passwords(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, "password")`` of each password of a connection string in ``text``."""
    if ";" not in text or "=" not in text:
        return []
    if not (may_hold(text, "pwd") or may_hold(text, "password")):
        return []
    found = []
    for m in finditer_named(STARTS, "connection-password", text):
        line = text.rfind("\n", 0, m.start()) + 1
        before = text[max(line, m.start() - 256) : m.start()]
        if _PAIR_BEFORE.search(before) is None and _PAIR_AFTER.match(text, m.end()) is None:
            continue
        index = next(i for i in (1, 2, 3, 4) if m.group(i) is not None)
        found.append((m.start(index), m.end(index), "password"))
    return found
