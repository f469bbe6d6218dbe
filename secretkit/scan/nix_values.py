"""What a Nix string literal's value is judged as: by the name it is bound to
(:func:`key_facts`, :func:`attribute_hit`), as config text holding ``name = value``
lines (:func:`embedded_config_hits`), as a string of assignments
(:func:`assignment_hits`: mount options, a libpq connection string) or as the value
of the command-line flag before it in a list (:func:`flag_value_hit`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from secretkit.lazy_re import lazy
from secretkit.scan import filters, named_values, nix_positions
from secretkit.scan.hits import KEYED_RULES, Hit
from secretkit.scan.value_shapes import hashlike

if TYPE_CHECKING:
    from secretkit.scan import nix_owner


@dataclass(frozen=True)
class Value:
    """A literal's value and its interpolations' index ranges (what the rules read)."""

    value: str
    interpolations: tuple[tuple[int, int], ...]

    @property
    def has_interpolation(self) -> bool:
        return bool(self.interpolations)

    def literal_text(self, i: int, j: int) -> bool:
        """Whether ``value[i:j]`` comes from literal text (not from an interpolation)."""
        return not any(a < j and i < b for a, b in self.interpolations)

    def literal_runs(self) -> list[tuple[int, int]]:
        """Index ranges of ``value`` not produced by interpolations."""
        runs = []
        pos = 0
        for a, b in self.interpolations:
            if a > pos:
                runs.append((pos, a))
            pos = b
        if pos < len(self.value):
            runs.append((pos, len(self.value)))
        return runs


# (the words the text reader asks a config line's name for: text_files._SECRETISH_WORDS)
SECRETISH = lazy(r"pass|token|secret|key|cred|psk|auth|pw|priv", re.IGNORECASE)
ENV_KEY_NAME = lazy(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_KEY$")


def secretish(raw: str) -> bool:
    """``SECRETISH.search(raw)``; ASCII text by its lowered form (the same answer:
    only non-ASCII letters fold unlike ``lower()``, e.g. the Kelvin sign to ``k``)."""
    if raw.isascii():
        low = raw.lower()
        return (
            "pass" in low
            or "token" in low
            or "secret" in low
            or "key" in low
            or ("cred" in low or "psk" in low)
            or ("auth" in low or "pw" in low or "priv" in low)
        )
    return SECRETISH.search(raw) is not None


@lru_cache(maxsize=4096)
def key_facts(key: str) -> tuple[str | None, bool, bool, bool] | None:
    """What an attribute name says about its string value, once per name: None for
    names of hashes and public values (never a secret); else the kind of secret it
    names, whether it is an ``ENV_KEY`` name, a config-text option, a command."""
    if key and (filters.hash_name(key) or filters.public_name(key)):
        return None
    kind = filters.secret_name(key) if key else None
    return kind, bool(ENV_KEY_NAME.match(key)), config_key(key), command_key(key)


@lru_cache(maxsize=4096)
def config_key(key: str) -> bool:
    """Options holding a config file's text (``extraConfig``, ``extraOptions``)."""
    parts = filters.words(key)
    return len(parts) >= 2 and parts[0] == "extra" and parts[-1] in ("config", "options", "conf")


def whole_value_hits(content: nix_positions.ContentContext, value: str) -> list[Hit]:
    """A builder's file whose name or option says it is a secret: the whole (stripped)
    text, a password hash low; an htpasswd of several users, each ``user:<hash>`` line;
    a file in a format of its own (a pgpass, an .npmrc), the secrets its reader finds."""
    fmt = nix_positions.own_format(content.name)
    if fmt is not None:
        from secretkit.scan.text_files import key_value_hits

        return [h for h in key_value_hits(value, fmt) if h.rule in KEYED_RULES]
    whole = nix_positions.whole_value_kind(content, value)
    stripped = value.strip()
    if whole is None and content.kind == "password-hash" and "\n" in stripped:
        out = []
        at = 0
        for line in value.split("\n"):  # (an htpasswd: one user's hash a line)
            text = line.strip()
            if text and filters.password_hash(text) and ":" in text:
                start = at + line.find(text)
                out.append(Hit(start, start + len(text), "password-hash", "password-hash", "low"))
            at += len(line) + 1
        return out
    if whole is None or filters.not_secret(stripped):
        return []
    offset = value.find(stripped)
    if filters.password_hash(stripped):
        return [Hit(offset, offset + len(stripped), "password-hash", "password-hash", "low")]
    return [Hit(offset, offset + len(stripped), "secret-file-text", whole, "high")]


def embedded_config_hits(lit: Value) -> list[Hit]:
    """``name = value`` / ``name: value`` lines of a config file written as a Nix string
    (``extraConfig``, ``settings`` text, wpa_supplicant ``auth``): the same name rules
    as attributes, only on text that comes from the literal itself."""
    from secretkit.scan.text_files import key_value_hits, looks_like_code

    # ``key = value`` lines, and ``key = "value"`` / ``$cfg['key'] = "value"`` inside
    # code (PHP, Lua, Python config written as a string)
    hits = key_value_hits(lit.value, "ini")
    spans = {(k.start, k.end) for k in hits}
    hits += [h for h in key_value_hits(lit.value, "text") if (h.start, h.end) not in spans]
    return [
        h
        for h in hits
        if lit.literal_text(h.start, h.end)
        and h.rule == "secret-attribute"
        and not looks_like_code(lit.value[h.start : h.end])
    ]


command_key = filters.command_name  # (the reference scan in the tests names it so)


def attribute_hit(value: str, kind: str, key: str = "") -> Hit | None:
    """The hit for a literal under a secret's name (``key``: that name)."""
    text = value.strip()
    offset = value.find(text) if text else 0
    tokens = named_values.host_tokens(key, text)
    if tokens is not None:  # access-tokens' host=token: the token (several: the whole)
        if not tokens:
            return None
        start, end = tokens[0] if len(tokens) == 1 else (0, len(text))
        return Hit(offset + start, offset + end, "secret-attribute", kind, "medium")
    if named_values.names_itself(key, text):
        return None
    if filters.password_hash(text):
        return Hit(offset, offset + len(text), "password-hash", "password-hash", "low")
    if kind == "password-hash":
        return None  # "!", "*" and other locked-account markers
    if filters.not_secret(text, kind=kind):
        return None
    if hashlike(text) and kind not in filters.HEX_SECRET_KINDS:
        return None
    return Hit(offset, offset + len(text), "secret-attribute", kind, "medium")


def flag_value_hit(lit: Value, kind: str) -> Hit | None:
    """``[ "--db-pass" "<lit>" ]``: the whole value, as the command rule reports a flag's."""
    attribute = attribute_hit(lit.value, kind)
    if attribute is None:
        return None
    return replace(attribute, rule="command-secret", kind=kind, severity="high")


def url_credentials(value: str) -> list[Hit]:
    """``scheme://user:<password>@${host}``: the URL rule over the whole value, whose
    interpolations stand in for the host the literal's runs alone lack (the caller keeps
    the hits on literal text)."""
    from secretkit.scan.detectors import DETECTORS, Context

    return [
        Hit(m.start, m.end, m.rule, m.kind, m.severity)
        for m in DETECTORS["url-credentials"].find(value, Context(()))
    ]


def assignment_hits(lit: Value) -> list[Hit]:
    """The secret-named assignments of a string that is nothing but ``name=value``
    assignments (:func:`secretkit.scan.nix_positions.assignments`), each judged as an
    attribute of that name."""
    out: list[Hit] = []
    for name, start, end in nix_positions.assignments(lit.value) or ():
        if lit.value[start : start + 1] in ("<", "$", "@", "%", "{", "("):
            continue  # a template's marker ("password=<SOPS:…"), as the command rule skips it
        named = key_facts(name)
        kind = named[0] if named is not None else None
        attribute = attribute_hit(lit.value[start:end], kind) if kind is not None else None
        if attribute is not None:
            out.append(replace(attribute, start=start + attribute.start, end=start + attribute.end))
    return out


# ``network_key = [ 12 201 … ];``: a key written as a list of bytes (zigbee2mqtt's
# network key, sixteen numbers), under a secret's name.  No string holds it, so the
# literal rules never see it.
_LIST_START = lazy(rb"=[ \t\r\n]*\[(?=[ \t\r\n]*\d)")
# (each number ends where its digits do: "1234…" is not read as 1, 23, 4… in every way)
_BYTES = lazy(rb"(?:[ \t\r\n]*\d{1,3}(?!\d)){8,64}[ \t\r\n]*\]")
_NAME_BEFORE = lazy(rb"([A-Za-z_][\w'-]*)[ \t]*\Z")


def byte_list_hits(data: bytes) -> list[Hit]:
    """Hits (byte offsets) for lists of 8 to 64 numbers of 0–255 bound to a secret's
    name, whole list; its name is the hit's attribute path."""
    out: list[Hit] = []
    for m in _LIST_START.finditer(data):
        body = _BYTES.match(data, m.end())
        named = _NAME_BEFORE.search(data, max(0, m.start() - 128), m.start())
        if body is None or named is None:
            continue
        name = named.group(1).decode("ascii")
        kind = filters.secret_name(name)
        values = tuple(int(n) for n in data[m.end() : body.end() - 1].split())
        if kind is None or kind == "password-hash" or not filters.key_bytes(values):
            continue
        start = m.end() - 1
        text = data[start : body.end()].decode("ascii")
        out.append(Hit(start, body.end(), "secret-attribute", kind, "medium", name, text))
    return out


def owned_attribute_hit(
    tree: Any, lit: Value, held: nix_owner.Owner, kind: str, key: str
) -> Hit | None:
    """The hit for a literal that is the value of a secret's name (``held``: the binding
    or formal); a part of a concatenation is judged by the whole value, joined."""
    from secretkit.nix import cst

    whole = lit.value
    if held.parts:
        whole = "".join(cst.string_parts(tree, part)[0] for part in held.parts)
    if kind in ("env-key", "suffix-key"):
        judge = named_values.env_key_kind if kind == "env-key" else named_values.suffix_key_kind
        decided = judge(key, whole.strip())
        if decided is None:
            return None
        kind = decided
    attribute = attribute_hit(whole, kind, key)
    if attribute is None or not held.parts:
        return attribute
    stripped = lit.value.strip()
    offset = lit.value.find(stripped)
    return replace(attribute, start=offset, end=offset + len(stripped)) if stripped else None
