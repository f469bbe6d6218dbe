"""Raw hits (a span, a rule) and the detectors run over one piece of text."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from secretkit.scan import filters
from secretkit.scan.detectors import DETECTORS, Context, pushover_kind, vendor_rules
from secretkit.scan.vendor_filter import SHORTEST_VENDOR

ALLOW_MARK = "secretkit: allow"
# Rules decided by a name (their values were filtered when the hit was made).
KEYED_RULES = frozenset({"secret-attribute", "password-hash"})
# Rules for free-form values (every filter applies); all others are token formats.
FREEFORM_RULES = frozenset(
    {
        "command-secret",
        "url-credentials",
        "password-file-text",
        "secret-file-text",
        "openvpn-credentials",
        "postfix-sasl-password",
    }
)

# Syncthing's API key's shape (32 letters and digits) under an API key's name, in a file
# that never names Syncthing (``JELLYFIN_API_KEY``, ``radarr.api_key``): another's key
GENERIC_API_KEY = "generic-api-key"
# Token formats with no prefix of their own: found only under a name (or beside a host)
# that says which service's they are
CONTEXT_RULES = frozenset(
    {"pushover-token", "pushover-user-key", "syncthing-api-key", GENERIC_API_KEY}
)

# Higher wins when two hits cover the same span.
_PRIORITY = {
    "prose-secret": 0,  # a pair reader's or a token format's reading of the span wins
    "command-secret": 1,
    "url-credentials": 1,
    "password-file-text": 2,
    "secret-file-text": 2,
    "secret-attribute": 3,
    "password-hash": 3,
}

_SEVERITY_RANK = {"high": 3, "medium": 2, "low": 1}


@dataclass(frozen=True)
class Hit:
    """A secret in one file: ``start``/``end`` index the file's text (characters)."""

    start: int
    end: int
    rule: str
    kind: str
    severity: str
    attrpath: str | None = None
    value: str | None = None  # the value when it differs from the span's bytes (Nix escapes)


KEYED_NEEDS = ("pushover", "syncthing", "apikey", "api_key", "credentials", "x-api-key")


# token_hits on short texts (a Nix literal, a value) is remembered: a history holds
# the same literals in version after version of a file.
_MEMO_MAX_CHARS = 2048


def token_hits(text: str, ctx: Context, base: int = 0, *, vendor: bool = True) -> list[Hit]:
    """Every token-format detector over ``text``; offsets shifted by ``base``.
    ``vendor=False``: the caller knows no vendor format can be in ``text``."""
    if len(text) > _MEMO_MAX_CHARS:
        return _token_hits(text, ctx, base, vendor)
    found = _token_hits_memo(text, ctx, vendor)
    if not base:
        return list(found)
    return [replace(h, start=h.start + base, end=h.end + base) for h in found]


@lru_cache(maxsize=8192)
def _token_hits_memo(text: str, ctx: Context, vendor: bool) -> tuple[Hit, ...]:
    return tuple(_token_hits(text, ctx, 0, vendor))


def _token_hits(text: str, ctx: Context, base: int, vendor: bool) -> list[Hit]:
    hits = []
    size = len(text)
    for name, detector in DETECTORS.items():
        if size < detector.shortest:
            continue  # (a value, a short literal: most formats are longer than it)
        for m in detector.find(text, ctx):
            rule, kind = m.rule, m.kind
            if name == "pushover-token":
                rule = pushover_kind(ctx, text, m.start)
                kind = "user-key" if rule == "pushover-user-key" else "token"
            hits.append(Hit(base + m.start, base + m.end, rule, kind, m.severity))
    rules = vendor_rules(text) if vendor and size >= SHORTEST_VENDOR else frozenset()
    if rules:
        from secretkit.scan.adapters import detect_secrets

        for start, end, rule in detect_secrets.find(text, rules):
            value = text[start:end]
            if filters.not_secret(value, token=True):
                continue
            hits.append(Hit(base + start, base + end, rule, "token", "high"))
    return hits


def merge(hits: list[Hit]) -> list[Hit]:
    """One hit per span: equal spans keep the most specific rule; a span inside
    another is dropped (the outer one, usually the whole value, is what a fix
    replaces) and lends the outer its severity — except a command's value inside a
    line read as ``name = value``."""
    ordered = sorted(hits, key=lambda h: (h.start, -(h.end - h.start), -_PRIORITY.get(h.rule, 9)))
    out: list[Hit] = []
    for hit in ordered:
        if out and out[-1].start <= hit.start and hit.end <= out[-1].end:
            outer = out[-1]
            if outer.start == hit.start and outer.end == hit.end:
                if _PRIORITY.get(hit.rule, 9) > _PRIORITY.get(outer.rule, 9):
                    out[-1] = replace(hit, attrpath=outer.attrpath or hit.attrpath)
                continue
            if (
                outer.start == hit.start
                and outer.rule in KEYED_RULES
                and hit.rule == "command-secret"
            ):
                # "NAME=secret rest of a command" read as a config line: the command
                # rule knows where the value ends.
                out[-1] = replace(hit, attrpath=outer.attrpath or hit.attrpath)
                continue
            if _SEVERITY_RANK[hit.severity] > _SEVERITY_RANK[outer.severity]:
                out[-1] = replace(outer, rule=hit.rule, kind=hit.kind, severity=hit.severity)
            continue
        out.append(hit)
    return out
