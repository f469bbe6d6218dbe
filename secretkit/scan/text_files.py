"""Secrets in every file that is not Nix.

Structured files (YAML, JSON, TOML, INI, ``.env``) are read line by line as
``key: value`` / ``key = value`` / ``"key": "value"`` pairs: the key decides with
the same name rules as Nix attributes (:func:`secretkit.scan.filters.secret_name`),
the value passes the same filters.  Reading lines instead of parsing keeps
exact positions, tolerates templated or broken files and never quotes a value in
a parser's error message.  Every file, structured or not, also goes through the
token-format detectors and detect-secrets' vendor formats.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from functools import lru_cache

from secretkit.scan import filters
from secretkit.scan.detectors import Context, in_context
from secretkit.scan.hits import (
    ALLOW_MARK,
    FREEFORM_RULES,
    KEYED_NEEDS,
    KEYED_RULES,
    Hit,
    merge,
    token_hits,
)
from secretkit.scan.match_starts import (
    contains,
    find,
    lines_with,
    lowered,
    may_hold,
    remembering,
    run_start,
)

# The bare key and the value end at the last character before the spaces and tabs
# that precede the ":" / the line's end: written greedily (a lazy ``[^:#]*?`` or
# ``.*?`` tries the rest of the pattern after every character), and the runs of spaces
# and tabs are possessive (what follows each cannot start with one, so giving one back
# never helps; a value blanked out as ciphertext is long).
_YAML_BODY = (
    r"[ \t]*+(?:-[ \t]++)?(?:\"(?P<dq>[^\"]+)\"|'(?P<sq>[^']+)'|(?P<bare>[^\s\"'#:{}\[\],&*!|>%@`-]"
    r"(?:[^:#]*[^:# \t])?))"
    r"[ \t]*+:[ \t]++(?P<value>\S(?:.*[^ \t\n])?)[ \t]*+$"
)
_YAML_PAIR = re.compile("^" + _YAML_BODY, re.MULTILINE)
# The same after a line break: led by a literal, which re scans for quickly (a "^" is
# tried at every position).
_YAML_NEXT = re.compile("\n" + _YAML_BODY, re.MULTILINE)
_JSON_PAIR = re.compile(r"\"((?:[^\"\\\n]|\\.)*)\"[ \t]*:[ \t]*\"((?:[^\"\\\n]|\\.)*)\"")
_ASSIGN = re.compile(
    r"^[ \t]*(?:export[ \t]+)?(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*|\"[^\"]+\")[ \t]*[=:][ \t]*"
    r"(?P<value>(?:.*[^ \t\n])?)[ \t]*$",
    re.MULTILINE,
)

STRUCTURED = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".toml": "toml",
    ".ini": "ini",
    ".cfg": "ini",
    ".conf": "ini",
    ".env": "env",
    ".properties": "ini",
}


def file_format(path: str) -> str:
    name = path.rsplit("/", 1)[-1].lower()
    if name == ".env" or name.startswith(".env.") or name.endswith(".env"):
        return "env"
    if name.endswith(".nix"):
        return "nix"
    dot = name.rfind(".")
    return STRUCTURED.get(name[dot:], "text") if dot > 0 else "text"


def _unquote(raw: str, fmt: str) -> tuple[int, int] | None:
    """(start, end) of the value inside ``raw`` without quotes or a trailing comment."""
    if not raw:
        return None
    if raw[0] in "\"'":
        close = raw.find(raw[0], 1)
        if close == -1:
            return None
        return 1, close
    end = len(raw)
    for marker in (" #", "\t#") + ((" ;", "\t;") if fmt == "ini" else ()):
        pos = raw.find(marker)
        if pos != -1:
            end = min(end, pos)
    while end > 0 and raw[end - 1] in " \t":
        end -= 1
    if fmt == "yaml" and raw[0] in "|>&*!{[":
        return None  # block scalars, anchors, tags and flow collections
    if fmt == "toml" and raw[0] in "[{":
        return None
    return 0, end


_SECRETISH_WORDS = ("pass", "token", "secret", "key", "cred", "psk", "auth", "pw")
_SECRETISH_KEY = re.compile("|".join(_SECRETISH_WORDS), re.IGNORECASE)


@lru_cache(maxsize=4096)
def _secretish(key: str) -> bool:
    """Whether a key holds a secret-ish word (keys repeat: remembered per key)."""
    return _SECRETISH_KEY.search(key) is not None


def _yaml_pairs(text: str) -> Iterator[re.Match[str]]:
    """``_YAML_PAIR.finditer(text)``: a match starts at a line's start and never ends
    just after a line break, so after the first line every try begins at a "\\n"."""
    first = _YAML_PAIR.match(text)
    if first is not None:
        yield first
    yield from _YAML_NEXT.finditer(text, first.end() if first is not None else 0)


def _pairs(text: str, fmt: str) -> Iterator[tuple[str, int, int]]:
    """``(key, value start, value end)`` of every key/value pair with a secret-ish key."""
    if fmt == "json":
        # A pair never spans lines: only lines holding a secret-ish word can hold one
        # whose key passes (the regex runs on those alone).
        lines = lines_with(text, _SECRETISH_WORDS)
        for start, end in [(0, len(text))] if lines is None else lines:
            for m in _JSON_PAIR.finditer(text, start, end):
                if _secretish(m.group(1)):
                    yield m.group(1), m.start(2), m.end(2)
    elif fmt == "yaml":
        for m in _yaml_pairs(text):
            key = m.group("dq") or m.group("sq") or m.group("bare") or ""
            if not _secretish(key):
                continue
            span = _unquote(m.group("value"), fmt)
            if span:
                base = m.start("value")
                yield key.strip(), base + span[0], base + span[1]
    elif fmt in ("toml", "ini", "env"):
        for m in _ASSIGN.finditer(text):
            key = m.group("key").strip('"')
            if not _secretish(key):
                continue
            span = _unquote(m.group("value"), fmt)
            if span:
                base = m.start("value")
                yield key, base + span[0], base + span[1]
    else:
        yield from _quoted_pairs(text)


_IDENT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_IDENT_RUN = re.compile(r"[A-Za-z0-9_-]*")  # a run of _IDENT_CHARS
_AFTER_KEY = re.compile(
    r"[\"']?\]?[ \t]*(?::=|=>|:|=)[ \t]*(?:\"(?P<dq>[^\"\n]*)\"|'(?P<sq>[^'\n]*)')"
)


def _lowered_in_place(text: str) -> str:
    """``text.lower()`` with ``text``'s positions: a character whose lower case is
    longer ("\u0130" lowers to two) stays as it is (the secret words are ASCII)."""
    low = lowered(text)
    if len(low) == len(text):
        return low
    return "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)


def _quoted_pairs(text: str) -> Iterator[tuple[str, int, int]]:
    """``name = "value"`` / ``name: 'value'`` in code and prose, found from the secret
    words outwards (fast on large files: no regex runs at every position)."""
    lowered = _lowered_in_place(text)
    seen: set[int] = set()
    for word in _SECRETISH_WORDS:
        if not may_hold(text, word):
            continue  # (a word text.lower() lacks is not in the in-place form either)
        pos = find(lowered, word)
        while pos != -1:
            run = _IDENT_RUN.match(text, pos + len(word))
            end = run.end() if run else pos + len(word)
            if end not in seen:
                seen.add(end)
                m = _AFTER_KEY.match(text, end)
                if m:
                    start = run_start(text, pos, _IDENT_CHARS)
                    if start < end and (text[start].isalpha() or text[start] == "_"):
                        group = "dq" if m.group("dq") is not None else "sq"
                        yield text[start:end], m.start(group), m.end(group)
            pos = find(lowered, word, end)


def key_value_hits(text: str, fmt: str) -> list[Hit]:
    """Name-rule hits for the key/value pairs of ``text`` read as ``fmt``."""
    hits: list[Hit] = []
    for key, start, end in _pairs(text, fmt):
        value = text[start:end]
        if fmt == "json" and "\\" in value:
            try:
                import json  # only for JSON-quoted values

                value = json.loads(f'"{value}"')
            except ValueError:
                continue
        lowered = key.lower()
        if any(n in lowered for n in KEYED_NEEDS):
            hits.extend(
                h for h in token_hits(text[start:end], Context((key,)), start) if h.rule in _KEYED
            )
        kind = filters.secret_name(key)
        if kind is None or filters.hash_name(key) or filters.public_name(key):
            continue
        if filters.password_hash(value):
            hits.append(Hit(start, end, "password-hash", "password-hash", "low"))
            continue
        if kind == "password-hash" or filters.not_secret(value):
            continue
        if filters.hashlike(value) and kind not in ("psk", "secret-key", "token", "api-key"):
            continue
        if fmt == "text" and looks_like_code(value):
            continue
        hits.append(Hit(start, end, "secret-attribute", kind, "medium"))
    return hits


def looks_like_code(value: str) -> bool:
    return any(c in value for c in "(){}[] ") or value.startswith(("%", "$", "{{"))


_CIPHERTEXT = re.compile(
    r"ENC\[[A-Z0-9_]+,[^\]]*\]"
    r"|-----BEGIN AGE ENCRYPTED FILE-----.*?-----END AGE ENCRYPTED FILE-----"
    r"|-----BEGIN PGP MESSAGE-----.*?-----END PGP MESSAGE-----",
    re.DOTALL,
)


def _raw_hits(text: str, fmt: str) -> tuple[str, list[Hit]]:
    """The text as read (ciphertext blanked) and every detector's hits in it."""
    with _asking(text, fmt):
        if not contains(text, "ENC[") and not (
            may_hold(text, "-----begin") and "-----BEGIN" in text
        ):
            return text, _hits(text, fmt)
    # Ciphertext (sops values, age/PGP armor) is blanked out, keeping offsets.
    text = _CIPHERTEXT.sub(lambda m: " " * len(m.group()), text)
    with _asking(text, fmt):
        return text, _hits(text, fmt)


def _asking(text: str, fmt: str) -> AbstractContextManager[None]:
    """The pair readers of text and JSON ask the lower-cased text for the secret words:
    the detectors then ask it too (other formats do not pay for lower-casing)."""
    if fmt in ("text", "json") and len(text) >= _ASK_MIN:
        return remembering(text)
    return nullcontext()


_ASK_MIN = 1 << 11  # a shorter text is read quickly enough without


def _hits(text: str, fmt: str) -> list[Hit]:
    hits = key_value_hits(text, fmt)
    # keyed formats (a Pushover key is any 30 letters and digits) only where a name
    # says so (above) or where the text calls the service (detectors.in_context)
    ctx = in_context(("",), text)
    hits.extend(
        h
        for h in token_hits(text, ctx, 0)
        if h.rule not in _KEYED or h.rule.split("-", 1)[0] in ctx.names
    )
    return hits


def scan_text(text: str, path: str) -> list[Hit]:
    """Hits (character offsets into ``text``) for one non-Nix file."""
    text, hits = _raw_hits(text, file_format(path))
    kept = []
    for hit in merge(hits):
        value = text[hit.start : hit.end]
        if hit.rule not in KEYED_RULES and filters.not_secret(
            value, token=hit.rule not in FREEFORM_RULES
        ):
            continue
        line_start = text.rfind("\n", 0, hit.start) + 1
        line_end = text.find("\n", hit.start)
        line = text[line_start : line_end if line_end != -1 else len(text)]
        if ALLOW_MARK in line:
            continue
        if (hit.rule in KEYED_RULES or hit.rule in FREEFORM_RULES) and line.lstrip().startswith(
            _COMMENT_STARTS
        ):
            continue  # commented-out code (a token format in a comment is still a leak)
        kept.append(hit)
    return kept


_COMMENT_STARTS = ("#", "//", ";", "/*", "* ", "<!--")


# Detectors that only make sense with a key around them (run per pair above).
_KEYED = frozenset({"pushover-token", "pushover-user-key", "syncthing-api-key"})


def char_to_byte(text: str, data: bytes, hits: list[Hit]) -> list[Hit]:
    """Re-express character offsets as byte offsets into ``data`` (the UTF-8 text)."""
    if len(text) == len(data):
        return hits
    out = []
    for hit in hits:
        start = len(text[: hit.start].encode("utf-8", "surrogateescape"))
        end = start + len(text[hit.start : hit.end].encode("utf-8", "surrogateescape"))
        out.append(replace(hit, start=start, end=end))
    return out
