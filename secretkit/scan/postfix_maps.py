"""Postfix's SASL passwords written inline: ``smtp_sasl_password_maps =
inline:{ [smtp.example.org]:587=user:password }`` (postfix ``inline_table(5)``, since
Postfix 3.0).  The table is in ``main.cf``, which NixOS writes into the world-readable
store from ``services.postfix.config`` (``settings.main`` from 25.05); its values are
``username:password`` (the password is what follows the first ``:``, as ``smtp(8)``
splits it).

A table is read only under a name that says its values are passwords: the key of the
Nix attribute or YAML/JSON pair holding it (the :class:`Context`), or the
``name =`` just before it (``main.cf`` text, ``extraConfig``, a Nix binding).  Other inline
tables (``transport_maps = inline:{ example.org=smtp:[relay]:25 }``) hold no secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from secretkit.lazy_re import lazy
from secretkit.scan import filters
from secretkit.scan.detector_types import Context, Match
from secretkit.scan.match_starts import contains

_OPEN = "inline:{"
_NAME_BEFORE = lazy(r"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*[\"']?\s*$")
_LOOK_BACK = 120  # (the name, `=` and a quote before the table, line breaks between)
_SPACE = " \t\r\n,"


def _password_maps(name: str) -> bool:
    """``smtp_sasl_password_maps``, ``lmtp_sasl_password_maps``: a table of passwords."""
    return filters.words(name)[-2:] == ["password", "maps"]


def _entries(text: str, at: int) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of each ``key=value`` entry of the table whose ``{`` is at
    ``at`` (inline_table(5): entries between white space or commas, an entry with white
    space in it wrapped in its own braces), up to the table's ``}``."""
    i = at + 1
    while i < len(text):
        while i < len(text) and text[i] in _SPACE:
            i += 1
        if i >= len(text) or text[i] == "}":
            return
        if text[i] == "{":
            end = text.find("}", i + 1)
            if end == -1:
                return
            yield i + 1, end
            i = end + 1
            continue
        start = i
        while i < len(text) and text[i] not in _SPACE and text[i] != "}":
            i += 1
        yield start, i


@dataclass(frozen=True)
class PostfixInlinePasswords:
    """The passwords of an inline SASL password table (``user:<password>``)."""

    rule: str = "postfix-sasl-password"
    shortest: int = field(default=len(_OPEN) + len("a=b:c}"), init=False)

    def find(self, text: str, ctx: Context) -> Iterator[Match]:
        if not contains(text, _OPEN):
            return
        at = text.find(_OPEN)
        while at != -1:
            before = _NAME_BEFORE.search(text, max(0, at - _LOOK_BACK), at)
            name = before.group(1) if before is not None else ctx.key
            if _password_maps(name):
                yield from self._passwords(text, at + len(_OPEN) - 1)
            at = text.find(_OPEN, at + len(_OPEN))

    def _passwords(self, text: str, brace: int) -> Iterator[Match]:
        for start, end in _entries(text, brace):
            equals = text.find("=", start, end)
            if equals == -1:
                continue
            colon = text.find(":", equals + 1, end)
            if colon == -1:
                continue
            begin = colon + 1
            while begin < end and text[begin] in " \t":
                begin += 1
            stop = end
            while stop > begin and text[stop - 1] in " \t":
                stop -= 1
            value = text[begin:stop]
            if value and "$" not in value and not filters.not_secret(value):
                yield Match(begin, stop, self.rule, "password")
