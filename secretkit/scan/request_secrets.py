"""Credentials an HTTP request carries, for
:class:`secretkit.scan.command_detectors.CommandSecret`:
an ``Authorization`` header (``curl -H``, nginx ``proxy_set_header``, a config's
``headers = {…}``), a key or token header (the *arr APIs' ``X-Api-Key``, GitLab's
``Private-Token``, ``X-Vault-Token``, ``X-Auth-Token``), a secret query
parameter (``?access_token=…``, ``&api_key=…``), a secret form field a request sends
(``curl -d token=…``, ``-F password=…``, ``wget --post-data "api_key=…"``).

Each pattern is tried only where it can start (:data:`STARTS`, held to plain
``finditer`` by ``tests/scan/test_scan_match_starts.py``); a text is first asked for
the marks a match needs (the kept lower-cased text answers when there is one).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from secretkit.lazy_re import lazy
from secretkit.scan import filters
from secretkit.scan.echoed import echoed_literal
from secretkit.scan.match_starts import finditer_named, folded, may_hold, word_starts

# (also nginx's check of a request's header: `if ($http_authorization != "Bearer …")`)
AUTH_HEADER = lazy(
    r"(?i)(?<![\w-])(?:proxy-|\$http_)?authorization['\"]?[ \t]*(?:[!=]=|!?~\*?|[:=])?[ \t]*"
    r"['\"]?\^?(bearer|token|basic)[ \t]+([A-Za-z0-9._~+/=-]{12,}|\$\(|`)"
)
# Headers whose value is the credential itself (no scheme): an API key, GitLab's
# Private-Token, Vault's, Consul's, Nomad's, Emby/Jellyfin's and Plex's tokens, Gotify's key,
# OpenStack's and many APIs' X-Auth-Token.  After the name a ":" (curl -H, a config)
# or, in nginx's `proxy_set_header NAME VALUE;`, spaces and a value ending at ";".
_KEY_NAMES = (
    "api-key", "auth-token", "api-token", "access-token", "private-token", "vault-token",
    "consul-token", "nomad-token", "emby-token", "plex-token", "gitlab-token", "gotify-key",
)  # fmt: skip
# nginx's check of a key header: `if ($http_x_api_key != "…")` (and !~, ~, = )
NGINX_KEY = lazy(
    r"(?i)\$http_((?:x_)?(?:" + "|".join(n.replace("-", "_") for n in _KEY_NAMES) + r"))"
    r"[ \t]*(?:!=|=|!?~\*?)[ \t]*['\"]?\^?([A-Za-z0-9._~+/=-]{12,})"
)
KEY_HEADER = lazy(
    r"(?i)(?<![\w-])((?:x-)?(?:" + "|".join(_KEY_NAMES) + r"))"
    r"(?:['\"]?[ \t]*:[ \t]*|[ \t]+(?=['\"]?[A-Za-z0-9._~+/=-]{12,}['\"]?[ \t]*;))"
    r"['\"]?([A-Za-z0-9._~+/=-]{12,}|\$\(|`)"
)
QUERY_SECRET = lazy(
    r"[?&](access_token|auth_token|private_token|api_key|apikey|token|secret|password|passwd"
    r"|X-Plex-Token|x-plex-token)"
    r"=([^&\s\"'#;]{8,})"
)

# A form field curl or wget sends: the first of ``-d``/``--data*``/``-F``/``--form*``/
# ``--post-data`` (later ones follow a "&", QUERY_SECRET's).  Its name decides.
FORM_FIELD = lazy(
    r"(?<!\S)(?:-[dF]|--(?:data(?:-raw|-binary|-urlencode|-ascii)?|form(?:-string)?|post-data))"
    r"(?:[ \t]+|=)['\"]?([A-Za-z_][A-Za-z0-9_.-]*)=([^&\s\"';]{8,})"
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


def _key_header_starts(text: str) -> Iterable[int] | None:
    """Where a key header's name can start (one of :data:`_KEY_NAMES`, and "x-" before
    it): found from its last word's "-key"/"-token" (two searches, where one per name
    cost a search of the whole text for each of eleven names)."""
    low = folded(text)
    if low is None:
        return None
    found: set[int] = set()
    for ending in ("-key", "-token"):
        names = [name for name in _KEY_NAMES if name.endswith(ending)]
        for at in word_starts(low, (ending,)):
            for name in names:
                start = at + len(ending) - len(name)
                if start >= 0 and low.startswith(name, start):
                    found.update(p for p in (start, start - 2) if p >= 0)
    return sorted(found)


def _query_starts(text: str) -> list[int]:
    """Every ``?`` and ``&``: where a query parameter starts."""
    return word_starts(text, ("?", "&"))


# pattern → where its matches can start (authorization / proxy-authorization and
# $http_authorization, 6 characters before it,
# a key header's name and "x-" before it, ? / &)
STARTS: dict[str, tuple[re.Pattern[str], Callable[[str], Iterable[int] | None]]] = {
    "auth-header": (AUTH_HEADER, _header_starts(("authorization",), (0, 6))),
    "key-header": (KEY_HEADER, _key_header_starts),
    "nginx-key": (NGINX_KEY, _header_starts(("$http_",), (0,))),
    "query": (QUERY_SECRET, _query_starts),
    # ("--" for --data, --form, --post-data)
    "form": (FORM_FIELD, lambda text: word_starts(text, ("-d", "-F", "--"))),
}


def _matches(name: str, text: str) -> Iterator[re.Match[str]]:
    return finditer_named(STARTS, name, text)


def _valued(text: str, m: re.Match[str], kind: str) -> list[tuple[int, int, str]]:
    """A header's value (group 2), or the literal a ``$(echo …)`` there prints."""
    if m.group(2) not in ("$(", "`"):
        return [(m.start(2), m.end(2), kind)]
    literal = echoed_literal(text, m.start(2))
    return [(*literal, kind)] if literal is not None else []


def request_secrets(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, kind)`` of each credential in ``text``'s requests."""
    found: list[tuple[int, int, str]] = []
    if may_hold(text, "thoriz") and ("thoriz" in text or "THORIZ" in text):
        for m in _matches("auth-header", text):
            basic = m.group(1).lower() == "basic"
            found += _valued(text, m, "credentials" if basic else "token")
    if may_hold(text, "$http_"):  # nginx: if ($http_x_api_key != "…")
        for m in _matches("nginx-key", text):
            kind = "api-key" if m.group(1).lower().endswith("key") else "token"
            found.append((m.start(2), m.end(2), kind))
    # X-Api-Key, X-Auth-Token, X-Gotify-Key
    if may_hold(text, "pi-key") or may_hold(text, "-token") or may_hold(text, "fy-key"):
        for m in _matches("key-header", text):
            kind = "api-key" if m.group(1).lower().endswith("key") else "token"
            found += _valued(text, m, kind)
    if "?" in text or "&" in text:
        for m in _matches("query", text):
            found.append((m.start(2), m.end(2), filters.secret_name(m.group(1)) or "token"))
    if (may_hold(text, "curl") or may_hold(text, "wget")) and (
        "-d" in text or "-F" in text or "--form" in text
    ):
        for m in _matches("form", text):
            field = filters.secret_name(m.group(1))
            if field is not None:
                found.append((m.start(2), m.end(2), field))
    return found
