"""Credentials an HTTP request carries, for
:class:`secretkit.scan.command_detectors.CommandSecret`:
an ``Authorization`` header (``curl -H``, nginx ``proxy_set_header``, a config's
``headers = {…}``), an API-key header (the *arr APIs' ``X-Api-Key``), a secret query
parameter (``?access_token=…``, ``&api_key=…``).

Each pattern is tried only where it can start (:data:`STARTS`, held to plain
``finditer`` by ``tests/scan/test_scan_match_starts.py``); a text is first asked for
the marks a match needs (the kept lower-cased text answers when there is one).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from secretkit.lazy_re import lazy
from secretkit.scan import filters
from secretkit.scan.match_starts import finditer_at, folded, may_hold, word_starts

AUTH_HEADER = lazy(
    r"(?i)(?<![\w-])(?:proxy-)?authorization['\"]?[ \t]*[:=]?[ \t]*['\"]?"
    r"(bearer|token|basic)[ \t]+([A-Za-z0-9._~+/=-]{12,})"
)
KEY_HEADER = lazy(
    r"(?i)(?<![\w-])((?:x-)?api-key)['\"]?[ \t]*:[ \t]*['\"]?([A-Za-z0-9._~+/=-]{12,})"
)
QUERY_SECRET = lazy(
    r"[?&](access_token|auth_token|private_token|api_key|apikey|token|secret|password|passwd)"
    r"=([^&\s\"'#;]{8,})"
)


# the value of an attribute named Authorization: `headers.Authorization = "Bearer …"`
_SCHEME_VALUE = lazy(r"(?i)[ \t]*(bearer|token|basic|bot)[ \t]+([A-Za-z0-9._~+/=-]{12,})[ \t]*")
_AUTH_NAMES = frozenset({"authorization", "proxy-authorization"})


def named_header(key: str, text: str) -> list[tuple[int, int, str]]:
    """``(start, end, kind)`` of the credential in ``text`` when ``key`` names the
    Authorization header (Home Assistant's ``rest_command.<c>.headers``, a client's
    ``headers = { Authorization = …; }``): the scheme's value."""
    if key.lower() not in _AUTH_NAMES:
        return []
    m = _SCHEME_VALUE.fullmatch(text)
    if m is None:
        return []
    return [(m.start(2), m.end(2), "credentials" if m.group(1).lower() == "basic" else "token")]


def _header_starts(
    words: tuple[str, ...], back: tuple[int, ...]
) -> Callable[[str], Iterable[int] | None]:
    """Where a header name can start: ``back`` characters before each case-folded
    occurrence of ``words`` (None: anywhere, when the text does not fold simply)."""

    def starts(text: str) -> Iterable[int] | None:
        low = folded(text)
        if low is None:
            return None
        found = word_starts(low, words)
        return sorted({p - b for p in found for b in back if p >= b})

    return starts


def _query_starts(text: str) -> list[int]:
    """Every ``?`` and ``&``: where a query parameter starts."""
    return word_starts(text, ("?", "&"))


# pattern → where its matches can start (authorization / proxy-authorization,
# api-key / x-api-key, ? / &)
STARTS: dict[str, tuple[re.Pattern[str], Callable[[str], Iterable[int] | None]]] = {
    "auth-header": (AUTH_HEADER, _header_starts(("authorization",), (0, 6))),
    "key-header": (KEY_HEADER, _header_starts(("api-key",), (0, 2))),
    "query": (QUERY_SECRET, _query_starts),
}


def _matches(name: str, text: str) -> Iterable[re.Match[str]]:
    pattern, where = STARTS[name]
    return finditer_at(pattern, text, where(text))


def request_secrets(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, kind)`` of each credential in ``text``'s requests."""
    found: list[tuple[int, int, str]] = []
    if may_hold(text, "thoriz") and ("thoriz" in text or "THORIZ" in text):
        for m in _matches("auth-header", text):
            basic = m.group(1).lower() == "basic"
            found.append((m.start(2), m.end(2), "credentials" if basic else "token"))
    if may_hold(text, "pi-") and ("pi-" in text or "PI-" in text):  # X-Api-Key, X-API-KEY
        for m in _matches("key-header", text):
            found.append((m.start(2), m.end(2), "api-key"))
    if "?" in text or "&" in text:
        for m in _matches("query", text):
            found.append((m.start(2), m.end(2), filters.secret_name(m.group(1)) or "token"))
    return found
