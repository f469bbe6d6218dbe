"""Secrets in every file that is not Nix.

Structured files (YAML, JSON, TOML, INI, ``.env``) are read line by line as
``key: value`` / ``key = value`` / ``"key": "value"`` pairs: the key decides with
the same name rules as Nix attributes (:func:`secretkit.scan.filters.secret_name`),
the value passes the same filters.  Reading lines instead of parsing keeps
exact positions, tolerates templated or broken files and never quotes a value in
a parser's error message.  Every file, structured or not, also goes through the
token-format detectors and detect-secrets' vendor formats.

A commented-out pair (``# password = …``, ``#token: …``, ``// "apiKey": …``,
``# export API_TOKEN=…``) is judged as the line without its mark; other comments keep
only their token formats.  Shell scripts and ``.env`` files are read as the shell
reads them: ``password=…`` is judged as ``PASSWORD=…`` is (named_values.env_key_kind).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from functools import lru_cache

from secretkit.lazy_re import lazy
from secretkit.scan import config_forms, filters, named_values
from secretkit.scan.allow_marks import honoured
from secretkit.scan.detectors import Context, in_context
from secretkit.scan.echoed import substituted
from secretkit.scan.formats import file_format as file_format
from secretkit.scan.hash_lines import hash_line_hits
from secretkit.scan.hits import (
    ALLOW_MARK,
    CONTEXT_RULES,
    FREEFORM_RULES,
    KEYED_NEEDS,
    KEYED_RULES,
    Hit,
    merge,
    token_hits,
)
from secretkit.scan.match_starts import (
    Known,
    contains,
    find,
    lines_with,
    lowered,
    may_hold,
    remembering,
    run_start,
)
from secretkit.scan.path_rules import prose_file, secret_file_hits
from secretkit.scan.unquote import multiline_quoted, unquote
from secretkit.scan.value_shapes import basic_auth, gpg_fingerprint, hashlike

# The bare key and the value end at the last character before the spaces and tabs
# that precede the ":" / the line's end: written greedily (a lazy ``[^:#]*?`` or
# ``.*?`` tries the rest of the pattern after every character), and the runs of spaces
# and tabs are possessive (what follows each cannot start with one, so giving one back
# never helps; a value blanked out as ciphertext is long).
_YAML_BODY = (
    r"[ \t]*+(?:#++[ \t]*+)?(?:-[ \t]++)?(?:\"(?P<dq>[^\"]+)\"|'(?P<sq>[^']+)'"
    r"|(?P<bare>[^\s\"'#:{}\[\],&*!|>%@`-]"
    r"(?:[^:#\n]*[^:# \t\n])?))"
    r"[ \t]*+:[ \t]++(?P<value>\S(?:.*[^ \t\n])?)[ \t]*+$"
)
_YAML_PAIR = lazy("^" + _YAML_BODY, re.MULTILINE)
# The same after a line break: led by a literal, which re scans for quickly (a "^" is
# tried at every position).
_YAML_NEXT = lazy("\n" + _YAML_BODY, re.MULTILINE)
_JSON_PAIR = lazy(r"\"((?:[^\"\\\n]|\\.)*)\"[ \t]*:[ \t]*\"((?:[^\"\\\n]|\\.)*)\"")
_ASSIGN = lazy(
    r"^[ \t]*(?:(?:#+|;+|//)[ \t]*)?(?:export[ \t]+)?"
    r"(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*|\"[^\"]+\")[ \t]*[=:][ \t]*"
    r"(?P<value>(?:.*[^ \t\n])?)[ \t]*$",
    re.MULTILINE,
)


_SECRETISH_WORDS = ("pass", "token", "secret", "key", "cred", "psk", "auth", "pw", "priv")
_SECRETISH_KEY = lazy("|".join(_SECRETISH_WORDS), re.IGNORECASE)


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


def _pairs(text: str, fmt: str, hosts: bool = False) -> Iterator[tuple[str, int, int]]:
    """``(key, value start, value end)`` of every key/value pair with a secret-ish key."""
    if fmt == "json":
        # A pair never spans lines: only lines holding a secret-ish word (or a value
        # key, named by its object) can hold one whose key passes (the regex runs on
        # those alone).
        lines = lines_with(text, (*_SECRETISH_WORDS, "value"))
        for start, end in [(0, len(text))] if lines is None else lines:
            for m in _JSON_PAIR.finditer(text, start, end):
                key = m.group(1)
                generic = _VALUE_KEY.fullmatch(key)
                if generic is not None:  # "RefreshToken": { "Value": … }, "TokenValue": …
                    key = generic.group(1) or _json_parent(text, m.start(2))
                if _secretish(key) and _json_parent(text, m.start()) != "scripts":
                    yield key, m.start(2), m.end(2)  # (npm's scripts: name → command)
    elif fmt == "yaml":
        for m in _yaml_pairs(text):
            key = m.group("dq") or m.group("sq") or m.group("bare") or ""
            if not _secretish(key):
                continue
            span = multiline_quoted(text, m.start("value")) or unquote(m.group("value"), fmt)
            base = m.start("value")
            if span is None and m.group("value")[0] in "|>&!":
                key_at = m.start("dq" if m.group("dq") else "sq" if m.group("sq") else "bare")
                column = key_at - text.rfind("\n", 0, key_at) - 1
                block = config_forms.yaml_block_scalar(text, m.group("value"), column, m.end())
                span, base = block, 0
            if span:
                key = key.strip()
                if key.lower() == "key":  # ESPHome's `api: encryption: key: …`
                    named = f"{_yaml_parent(text, m.start('value'))}_{key}"
                    # (else a bare `key:`, judged by its value: homepage's widgets)
                    key = named if filters.secret_name(named) else key
                yield key, base + span[0], base + span[1]
        yield from _secretish_pairs(config_forms.inline_pairs(text, fmt))
    elif fmt in ("toml", "ini", "env", "npmrc"):
        for m in _ASSIGN.finditer(text):
            key = m.group("key").strip('"')
            if not _secretish(key):
                continue
            if key == "key" and fmt == "ini" and config_forms.rclone_b2(text, m.start()):
                key = "b2_app_key"  # rclone's B2 remote: `key` is the application key
            span = unquote(m.group("value"), fmt)
            if span:
                base = m.start("value")
                yield key, base + span[0], base + span[1]
        if fmt == "toml" or hosts:  # (TOML's inline tables, an inventory's host lines)
            yield from _secretish_pairs(config_forms.also_pairs(text, fmt))
        elif fmt == "npmrc":
            yield from config_forms.npmrc_pairs(text)
    elif fmt == "pgpass":
        yield from config_forms.pgpass_pairs(text)
    else:
        yield from _quoted_pairs(text, shell=fmt == "shell")
        if fmt == "text":
            yield from _secretish_pairs(config_forms.xml_pairs(text))


def _secretish_pairs(pairs: Iterator[tuple[str, int, int]]) -> Iterator[tuple[str, int, int]]:
    return (pair for pair in pairs if _secretish(pair[0]))


_YAML_KEY = lazy(r"[ \t]*(?:-[ \t]+)?([A-Za-z_][\w-]*)[ \t]*:[ \t]*$")
# a key that only says "the value": the object holding it, or its own first words, name it
_VALUE_KEY = lazy(r"(?i)([a-z][a-z0-9]*?)?_?value")
_JSON_OBJECT_KEY = lazy(r'[ \t]*"([^"\n]+)"[ \t]*:[ \t]*\{[ \t\r]*$')  # (CRLF files too)


def _json_parent(text: str, at: int) -> str:
    """The key of the object holding the pair at ``at`` in pretty-printed JSON (the
    nearest line above with less indentation, when it opens ``"name": {``), else ``""``;
    ``secret`` for a Terraform output marked ``"sensitive": true``."""
    if config_forms.sensitive_object(text, at):
        return "secret"
    return _parent_key(text, at, _JSON_OBJECT_KEY, " \t", lambda row: not row.strip())


def _yaml_parent(text: str, at: int) -> str:
    """The key of the mapping holding the pair at ``at`` (the nearest line above with
    less indentation, when it is a bare ``name:``), else ``""``."""
    return _parent_key(
        text, at, _YAML_KEY, " ", lambda row: not row.strip() or row.lstrip().startswith("#")
    )


def _parent_key(
    text: str, at: int, key: re.Pattern[str], blanks: str, skipped: Callable[[str], bool]
) -> str:
    """The key ``key`` reads from the nearest line above ``at`` indented less than its
    line (lines ``skipped`` says are blank or comments passed over), else ``""``."""
    line = text.rfind("\n", 0, at) + 1
    indent = len(text[line:at]) - len(text[line:at].lstrip(blanks))
    end = line - 1
    for _ in range(50):  # (a near parent only: the pair's own block)
        if end <= 0:
            return ""
        start = text.rfind("\n", 0, end) + 1
        row = text[start:end]
        if not skipped(row) and len(row) - len(row.lstrip(blanks)) < indent:
            parent = key.match(row)
            return parent.group(1) if parent is not None else ""
        end = start - 1
    return ""


_IDENT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_IDENT_RUN = lazy(r"[A-Za-z0-9_-]*")  # a run of _IDENT_CHARS
_AFTER_KEY = lazy(r"[\"']?\]?[ \t]*(?::=|=>|:|=)[ \t]*(?:\"(?P<dq>[^\"\n]*)\"|'(?P<sq>[^'\n]*)')")


def _lowered_in_place(text: str) -> str:
    """``text.lower()`` with ``text``'s positions: a character whose lower case is
    longer ("\u0130" lowers to two) stays as it is (the secret words are ASCII)."""
    low = lowered(text)
    if len(low) == len(text):
        return low
    return "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)


def _quoted_pairs(text: str, *, shell: bool = False) -> Iterator[tuple[str, int, int]]:
    """``name = "value"`` / ``name: 'value'`` in code and prose, found from the secret
    words outwards (fast on large files: no regex runs at every position).  ``shell``:
    ``name=value`` unquoted too, where a shell reads an assignment."""
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
                if m or (shell and text.startswith("=", end)):
                    start = run_start(text, pos, _IDENT_CHARS)
                    if start < end and (text[start].isalpha() or text[start] == "_"):
                        if m:
                            group = "dq" if m.group("dq") is not None else "sq"
                            yield text[start:end], m.start(group), m.end(group)
                        elif (value := _shell_value(text, start, end)) is not None:
                            yield text[start:end], *value
            pos = find(lowered, word, end)


_SHELL_VALUE = lazy(r"[^\s'\";|&)`]+")
_SHELL_BEFORE = frozenset(" \t\n;&|(#")


def _shell_value(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The unquoted value of the shell assignment ``text[start:end]=value``, if the name
    is a shell variable's where a command can start (after ``export``/``local`` too)."""
    if "-" in text[start:end] or (start and text[start - 1] not in _SHELL_BEFORE):
        return None
    m = _SHELL_VALUE.match(text, end + 1)
    return None if m is None else (m.start(), m.end())


def key_value_hits(text: str, fmt: str, hosts: bool = False) -> list[Hit]:
    """Name-rule hits for the key/value pairs of ``text`` read as ``fmt``.  A pair
    commented out (``# password = …``) is judged as the line would be without the
    mark, unless its value is unquoted words (``# token: see the wiki``: prose)."""
    hits: list[Hit] = []
    for key, start, end in _pairs(text, fmt, hosts):  # (hosts: an INI file's host lines)
        if start < end and text[start] in "$`":  # `$(echo …)`: the literal it prints
            start, end = substituted(text, start, end)
        value = text[start:end]
        tokens = named_values.host_tokens(key, value)
        if tokens is not None:  # nix.conf's access-tokens: each host=token's token
            hits += [
                Hit(start + a, start + b, "secret-attribute", "token", "medium") for a, b in tokens
            ]
            continue
        if fmt == "json" and "\\" in value:
            try:
                import json  # only for JSON-quoted values

                value = json.loads(f'"{value}"')
            except ValueError:
                continue
        if (
            (start == 0 or text[start - 1] not in "\"'")
            and any(c.isspace() for c in value)
            and commented(text, start)
        ):
            continue
        lowered = key.lower()
        if any(n in lowered for n in KEYED_NEEDS):
            hits.extend(
                h for h in token_hits(text[start:end], Context((key,)), start) if h.rule in _KEYED
            )
        if fmt in ("env", "shell") and _assigned(text, start):
            hit = _shell_hit(key, value, fmt)
        else:
            hit = _pair_hit(key, value, fmt)
        if hit is not None:
            hits.append(replace(hit, start=start, end=end))
    return hits


def _assigned(text: str, start: int) -> bool:
    """Whether the value at ``start`` is assigned as the shell does: ``NAME=value``,
    ``NAME="value"`` (no space around the "=")."""
    at = start - 1 if start and text[start - 1] in "\"'" else start
    return at >= 2 and text[at - 1] == "=" and (text[at - 2].isalnum() or text[at - 2] == "_")


def _pair_hit(key: str, value: str, fmt: str) -> Hit | None:
    """The hit for ``key: value`` (a span to be placed by the caller), or None."""
    kind = filters.secret_name(key) or named_values.named_value_kind(key, value)
    if kind is None and key.lower() == "auth" and basic_auth(value):
        return Hit(0, 0, "secret-attribute", "credentials", "medium")  # docker's config.json
    if kind is None or filters.hash_name(key) or filters.public_name(key):
        return None
    if filters.password_hash(value):
        return Hit(0, 0, "password-hash", "password-hash", "low")
    if kind == "password-hash" or filters.not_secret(value, kind=kind):
        return None
    if named_values.names_itself(key, value):
        return None
    if hashlike(value) and (kind not in filters.HEX_SECRET_KINDS or gpg_fingerprint(value)):
        return None  # (`signing: key: <fingerprint>`: a GPG key named, not a private key)
    if fmt in ("text", "shell") and looks_like_code(value):
        return None
    return Hit(0, 0, "secret-attribute", kind, "medium")


def _shell_hit(name: str, value: str, fmt: str) -> Hit | None:
    """``name=value`` in a shell script or ``.env`` file, judged in every case as the
    command rule judges an upper-case ``FOO_TOKEN=value`` (named_values.env_key_kind; a
    hex value is a secret too)."""
    if filters.hash_name(name) or filters.public_name(name):
        return None
    if filters.password_hash(value):
        return Hit(0, 0, "password-hash", "password-hash", "low")
    kind = named_values.env_key_kind(name, value)
    if kind is None or kind == "password-hash" or filters.not_secret(value):
        return None
    first = value.lstrip()[:1]  # (" --disk-encryption-keys …": options, after a space)
    if fmt == "shell" and (len(value) < 4 or not first or first in "([{<$%@-`"):
        return None  # an expansion, an array, a placeholder or an option
    return Hit(0, 0, "secret-attribute", kind, "medium")


_COMMENT_STARTS = ("#", "//", ";", "/*", "* ", "<!--")  # (npm's "//registry/:key=" is a key)


def commented(text: str, pos: int) -> bool:
    """Whether the line holding ``pos`` starts with a comment mark."""
    line_start = text.rfind("\n", 0, pos) + 1
    return text[line_start:pos].lstrip().startswith(_COMMENT_STARTS)


def looks_like_code(value: str) -> bool:  # (Go's "token: "+format+"\n" gives +format+)
    code = any(c in value for c in "(){}[] ") or value.startswith(("%", "$", "{{"))
    return code or (len(value) > 2 and value[0] == value[-1] == "+")


_CIPHERTEXT = lazy(
    r"ENC\[[A-Z0-9_]+,[^\]]*\]"
    r"|-----BEGIN AGE ENCRYPTED FILE-----.*?-----END AGE ENCRYPTED FILE-----"
    r"|-----BEGIN PGP MESSAGE-----.*?-----END PGP MESSAGE-----",
    re.DOTALL,
)


def _raw_hits(
    text: str, fmt: str, known: Known | None = None, *, prose: bool = False
) -> tuple[str, list[Hit]]:
    """The text as read (ciphertext blanked) and every detector's hits in it
    (``prose``: values written after a secret's name in sentences too)."""
    with _asking(text, fmt, known):
        if not contains(text, "ENC[") and not (
            may_hold(text, "-----begin") and "-----BEGIN" in text
        ):
            return text, _hits(text, fmt, prose)
    # Ciphertext (sops values, age/PGP armor) is blanked out, keeping offsets.
    text = _CIPHERTEXT.sub(lambda m: " " * len(m.group()), text)
    with _asking(text, fmt):
        return text, _hits(text, fmt, prose)


def _asking(text: str, fmt: str, known: Known | None = None) -> AbstractContextManager[None]:
    """The pair readers of text and JSON ask the lower-cased text for the secret words:
    the detectors then ask it too (other formats do not pay for lower-casing).
    ``known``: what is known of the text already, and where to leave what is learnt."""
    if fmt in ("text", "json", "shell") and len(text) >= _ASK_MIN:
        return remembering(text, known)
    return nullcontext()


_ASK_MIN = 1 << 11  # a shorter text is read quickly enough without


_PROSE_RULE = "prose-secret"  # secretkit.scan.prose_secrets.RULE (loaded with the first prose)


def _hits(text: str, fmt: str, prose: bool = False) -> list[Hit]:
    hits = key_value_hits(text, fmt, hosts=fmt == "ini")
    if prose:  # "the old api key: <value>" (asked of the remembered lower-cased text)
        from secretkit.scan import prose_secrets

        hits.extend(
            Hit(start, end, prose_secrets.RULE, kind, "medium")
            for start, end, kind in prose_secrets.find(text)
        )
    # keyed formats (a Pushover key is any 30 letters and digits) only where a name
    # says so (above) or where the text calls the service (detectors.in_context)
    ctx = in_context(("",), text)
    hits.extend(
        h
        for h in token_hits(text, ctx, 0)
        if h.rule not in _KEYED or h.rule.split("-", 1)[0] in ctx.names
    )
    return hits


def scan_text(text: str, path: str, known: Known | None = None) -> list[Hit]:
    """Hits (character offsets into ``text``) for one non-Nix file.  ``known``: what
    is known of the text already (:class:`secretkit.scan.match_starts.Known`), and
    where to leave what the scan learns."""
    fmt = _content_format(text, file_format(path))
    text, hits = _raw_hits(text, fmt, known, prose=fmt == "text" and prose_file(path))
    if fmt == "text" and not any(h.rule != _PROSE_RULE for h in hits):
        hits = hits + secret_file_hits(text, path)
    if fmt in ("text", "ini"):  # (an htpasswd's `user:$apr1$…` lines read as ini)
        hits = hits + hash_line_hits(text)
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
        if ALLOW_MARK in line and honoured(text, fmt, line_start, hit.end):
            continue  # (a comment after the value; not words inside a value, nor JSON)
        if (
            (hit.rule in KEYED_RULES or hit.rule in FREEFORM_RULES)
            and line.lstrip().startswith(_COMMENT_STARTS if fmt != "npmrc" else ("#", ";"))
            and not _COMMENTED_ASSIGNMENT.match(line)
        ):
            continue  # a comment, not a commented-out assignment (a token format is kept)
        kept.append(hit)
    if path.endswith(".ipynb"):  # (a code cell's lines: JSON strings of Python)
        from secretkit.scan.notebooks import notebook_hits

        # (read as code: over the raw JSON reading of a line)
        cells = notebook_hits(text, lambda line: scan_text(line, "cell.py"))
        taken = [(h.start, h.end) for h in cells]
        kept = [h for h in kept if not any(a < h.end and h.start < b for a, b in taken)] + cells
    return kept


# A comment that is one assignment: ``# key = …``, ``#key: …``, ``// "key": …``,
# ``# export KEY=…``, ``#  - KEY=…`` (not ``# set the token = …``: prose).
_COMMENTED_ASSIGNMENT = lazy(
    r"[ \t]*(?:#+|//+|;+|/\*+|\*|<!--)[ \t]*(?:-[ \t]+)?(?:export[ \t]+)?"
    r"(?:\"[^\"\n]+\"|'[^'\n]+'|[A-Za-z_$][A-Za-z0-9_.\-\[\]'\"$]*)[ \t]*(?::=|=>|=|:)"
)
_SHEBANG_SHELL = lazy(r"#![^\n]*\b(?:sh|bash|zsh|ksh|dash)\b")


def mark_is_comment(path: str, data: bytes, line: int) -> bool:
    """Whether ``# secretkit: allow`` appended to ``line`` (1-based) of the non-Nix file
    ``path`` would be a comment the scan honours (:mod:`secretkit.scan.allow_marks`)."""
    from secretkit.scan.allow_marks import comment_at
    from secretkit.scan.decode import decode

    text = decode(data).text
    fmt = _content_format(text, file_format(path))
    start = 0
    for _ in range(line - 1):
        start = text.find("\n", start) + 1
        if start == 0:
            return False
    end = text.find("\n", start)
    return fmt in ("yaml", "toml", "shell") and comment_at(
        text, fmt, start, (end if end != -1 else len(text)) - start + 1
    )


def _content_format(text: str, fmt: str) -> str:
    """A text file that starts with a shell's ``#!`` line is a shell script; one whose
    every line is a ``name=value`` / ``name: value`` assignment of one word or a
    comment or an INI section (a credentials file: ``smb-secrets``, ``auth.txt``,
    ``~/.aws/credentials``) is read as INI."""
    if fmt != "text":
        return fmt
    if _SHEBANG_SHELL.match(text):
        return "shell"
    return "ini" if _assignments_only(text) else fmt


# (one word after the mark: "fix: update the token handling" is a commit message)
_ASSIGNMENT_LINE = lazy(r"[ \t]*[A-Za-z_][A-Za-z0-9_.\-]*[ \t]*[=:][ \t]*\S+[ \t]*$")
_SECTION_LINE = lazy(r"\[[A-Za-z0-9_. -]+\]$")
_ASSIGNMENTS_MAX = 1 << 14  # a credentials file is short; a long text is prose or code


def _assignments_only(text: str) -> bool:
    if len(text) > _ASSIGNMENTS_MAX or ("=" not in text and ":" not in text):
        return False
    seen = False
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        if _SECTION_LINE.match(stripped):
            continue  # an INI section: `[default]` of ~/.aws/credentials
        if _ASSIGNMENT_LINE.match(line) is None:
            return False
        seen = True
    return seen


# Detectors that only make sense with a key around them (run per pair above).
_KEYED = CONTEXT_RULES


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
