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

import json
import re
from dataclasses import replace

from secretkit.scan import filters
from secretkit.scan.detectors import Context
from secretkit.scan.hits import (
    ALLOW_MARK,
    FREEFORM_RULES,
    KEYED_RULES,
    Hit,
    merge,
    token_hits,
)

_YAML_PAIR = re.compile(
    r"^[ \t]*(?:-[ \t]+)?(?:\"(?P<dq>[^\"]+)\"|'(?P<sq>[^']+)'|(?P<bare>[^\s\"'#:{}\[\],&*!|>%@`-]"
    r"[^:#]*?))"
    r"[ \t]*:[ \t]+(?P<value>\S.*?)[ \t]*$"
)
_JSON_PAIR = re.compile(r"\"((?:[^\"\\]|\\.)*)\"\s*:\s*\"((?:[^\"\\]|\\.)*)\"")
_ASSIGN = re.compile(
    r"^[ \t]*(?:export[ \t]+)?(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*|\"[^\"]+\")[ \t]*[=:][ \t]*"
    r"(?P<value>.*?)[ \t]*$"
)
_QUOTED_ASSIGN = re.compile(
    r"(?P<key>[A-Za-z_][A-Za-z0-9_\-]*)[\"']?\s*(?::|=|:=|=>)\s*"
    r"(?:\"(?P<dq>[^\"\n]*)\"|'(?P<sq>[^'\n]*)')"
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


def _key_value_hits(text: str, fmt: str) -> list[Hit]:
    hits: list[Hit] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        pairs: list[tuple[str, int, int]] = []  # key, start, end (line-relative)
        if fmt == "json":
            for m in _JSON_PAIR.finditer(body):
                pairs.append((m.group(1), m.start(2), m.end(2)))
        elif fmt == "yaml":
            ym = _YAML_PAIR.match(body)
            if ym:
                key = ym.group("dq") or ym.group("sq") or ym.group("bare") or ""
                span = _unquote(ym.group("value"), fmt)
                if span:
                    base = ym.start("value")
                    pairs.append((key.strip(), base + span[0], base + span[1]))
        elif fmt in ("toml", "ini", "env"):
            am = _ASSIGN.match(body)
            if am and not body.lstrip().startswith(("#", ";", "[")):
                span = _unquote(am.group("value"), fmt)
                if span:
                    base = am.start("value")
                    pairs.append((am.group("key").strip('"'), base + span[0], base + span[1]))
        else:
            for m in _QUOTED_ASSIGN.finditer(body):
                group = "dq" if m.group("dq") is not None else "sq"
                pairs.append((m.group("key"), m.start(group), m.end(group)))
        for key, start, end in pairs:
            value = body[start:end]
            if fmt == "json" and "\\" in value:
                try:
                    value = json.loads(f'"{value}"')
                except ValueError:
                    continue
            ctx = Context((key,))
            kind = filters.secret_name(key)
            for hit in token_hits(body[start:end], ctx, pos + start):
                hits.append(hit)
            if kind is None or filters.hash_name(key) or filters.public_name(key):
                continue
            if filters.password_hash(value):
                hits.append(Hit(pos + start, pos + end, "password-hash", "password-hash", "low"))
                continue
            if kind == "password-hash" or filters.not_secret(value):
                continue
            if filters.hashlike(value) and kind not in ("psk", "secret-key", "token", "api-key"):
                continue
            if fmt == "text" and _looks_like_code(value):
                continue
            hits.append(Hit(pos + start, pos + end, "secret-attribute", kind, "medium"))
        pos += len(line)
    return hits


def _looks_like_code(value: str) -> bool:
    return any(c in value for c in "(){}[] ") or value.startswith(("%", "$", "{{"))


_CIPHERTEXT = re.compile(
    r"ENC\[[A-Z0-9_]+,[^\]]*\]"
    r"|-----BEGIN AGE ENCRYPTED FILE-----.*?-----END AGE ENCRYPTED FILE-----"
    r"|-----BEGIN PGP MESSAGE-----.*?-----END PGP MESSAGE-----",
    re.DOTALL,
)


def scan_text(text: str, path: str) -> list[Hit]:
    """Hits (character offsets into ``text``) for one non-Nix file."""
    fmt = file_format(path)
    hits = _key_value_hits(text, fmt)
    hits.extend(h for h in token_hits(text, Context(("",)), 0) if h.rule not in _KEYED)
    masked = (
        [m.span() for m in _CIPHERTEXT.finditer(text)]
        if "-----BEGIN" in text or "ENC[" in text
        else []
    )
    kept = []
    for hit in merge(hits):
        if any(a <= hit.start < b for a, b in masked):
            continue
        value = text[hit.start : hit.end]
        if hit.rule not in KEYED_RULES and filters.not_secret(
            value, token=hit.rule not in FREEFORM_RULES
        ):
            continue
        line_start = text.rfind("\n", 0, hit.start) + 1
        line_end = text.find("\n", hit.start)
        if ALLOW_MARK in text[line_start : line_end if line_end != -1 else len(text)]:
            continue
        kept.append(hit)
    return kept


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
