"""Config forms the line-by-line ``key: value`` reading of :mod:`secretkit.scan.text_files`
passes over: a YAML block scalar, pairs inside a TOML inline table or a YAML flow
mapping, ``.pgpass`` lines, npm's scoped ``//registry/:_authToken=…`` keys and XML
elements named for a secret (``<password>…</password>``).

Each reader yields ``(key, value start, value end)`` as the pair readers do: the key is
then judged by the same name rules and the value by the same filters.  Each runs only
on a text holding the character its form needs ("{", "</", "//" …), so a text without
one pays a substring test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from secretkit.lazy_re import lazy

Pair = tuple[str, int, int]

# `|`, `>-`, `|2+` and a comment, after an anchor or a tag that keeps a string a string
_BLOCK_HEADER = lazy(
    r"(?:&[^\s,\[\]{}]+[ \t]+)?(?:(?:!!str|!unsafe)[ \t]+)?[|>](?:[1-9][+-]?|[+-][1-9]?)?"
    r"(?:[ \t]+#.*)?"
)


def yaml_block_scalar(text: str, header: str, column: int, after: int) -> tuple[int, int] | None:
    """The span of a block scalar's one line of content (``token: >-`` then the value,
    indented, on the next line): ``header`` is what follows the key's ":", ``column``
    the key's, ``after`` the end of its line.  A block of two or more lines (a script
    under ``script: |``) is not one value: None."""
    if _BLOCK_HEADER.fullmatch(header) is None:
        return None
    found: tuple[int, int] | None = None
    pos = after + 1
    while pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end == -1 else end
        line = text[pos:end]
        content = line.strip()
        if content:
            if len(line) - len(line.lstrip(" ")) <= column:
                break  # the block ends where a line is indented no more than its key
            if found is not None:
                return None
            start = pos + line.index(content[0])
            found = (start, start + len(content))
        pos = end + 1
    return found


# `{ user = "app", password = "…" }` (TOML: quoted values) and `{ user: app, password: … }`
# (YAML flow: quoted or plain values); a pair follows "{" or ","
_KEY = r"[{,][ \t]*(?:\"(?P<kdq>[^\"\n]+)\"|'(?P<ksq>[^'\n]+)'|(?P<key>[A-Za-z_][\w.-]*))[ \t]*"
_QUOTED = r"(?:\"(?P<dq>[^\"\\\n]*)\"|'(?P<sq>[^'\n]*)')"
_TOML_INLINE = lazy(_KEY + "=[ \t]*" + _QUOTED)
_YAML_FLOW = lazy(
    _KEY + ":[ \t]*(?:" + _QUOTED + r"|(?P<plain>[^\s,{}\[\]\"'&*!|>%@`#$]"
    r"(?:[^,{}\[\]\n]*[^,{}\[\]\s])?)(?=[ \t]*[,}]))"
)


def inline_pairs(text: str, fmt: str) -> Iterator[Pair]:
    """Pairs inside one-line TOML inline tables / YAML flow mappings (``db = { … }``)."""
    pattern = _TOML_INLINE if fmt == "toml" else _YAML_FLOW
    pos = text.find("{")
    while pos != -1:
        end = text.find("\n", pos)
        end = len(text) if end == -1 else end
        for m in pattern.finditer(text, pos, end):
            group = next(g for g in ("dq", "sq", "plain") if m.groupdict().get(g) is not None)
            yield m.group("kdq") or m.group("ksq") or m.group("key"), m.start(group), m.end(group)
        pos = text.find("{", end)


# hostname:port:database:username:password, "\:" and "\\" escaped (libpq's .pgpass)
_FIELD = r"(?:[^:\\\n]|\\.)*"
_PGPASS_LINE = lazy(rf"^[ \t]*[^#\s:\\]{_FIELD}:{_FIELD}:{_FIELD}:{_FIELD}:(?P<pw>{_FIELD})$", re.M)


def pgpass_pairs(text: str) -> Iterator[Pair]:
    """The password field of every line of a ``.pgpass`` file."""
    for m in _PGPASS_LINE.finditer(text):
        if m.group("pw").strip():
            yield "password", m.start("pw"), m.end("pw")


# `//npm.pkg.github.com/:_authToken=…`: a registry-scoped key (npm's .npmrc)
_NPM_PAIR = lazy(
    r"^[ \t]*(?://[^\s=]*:)?(?P<key>_authToken|_auth|_password)[ \t]*=[ \t]*"
    r"(?:\"(?P<dq>[^\"\n]*)\"|(?P<plain>[^\s\"#;][^\n]*?))[ \t]*$",
    re.M,
)
# `_auth` holds base64 of "user:password"; the others are named for what they hold
_NPM_KEYS = {"_auth": "npm_credentials", "_authToken": "_authToken", "_password": "_password"}


def npmrc_pairs(text: str) -> Iterator[Pair]:
    """npm's auth keys, scoped to a registry or not."""
    if "_auth" not in text and "_password" not in text:
        return
    for m in _NPM_PAIR.finditer(text):
        group = "dq" if m.group("dq") is not None else "plain"
        yield _NPM_KEYS[m.group("key")], m.start(group), m.end(group)


# an element holding text alone: `<password>…</password>`, the text on the tag's line or
# on lines of its own (not `<password/>`, not nested; one line of text; not a
# backslash, which is code writing XML in a string: "<auth-user-pass>\n…")
_XML_ELEMENT = lazy(
    r"<(?P<tag>[A-Za-z_][\w.:-]*)(?:[ \t][^<>\n]*)?>"
    r"(?P<value>\s*[^<>\s\\](?:[^<>\n\\]*[^<>\s\\])?\s*)"
    r"</(?P=tag)>"
)


def xml_pairs(text: str) -> Iterator[Pair]:
    """``<name>text</name>`` elements (maven's ``settings.xml``, Syncthing's ``config.xml``)."""
    if "</" not in text:
        return
    for m in _XML_ELEMENT.finditer(text):
        if m.group("tag") == "auth-user-pass":
            continue  # OpenVPN's inline block (a user, then a password): its own rule's
        value = m.group("value")
        content = value.strip()
        if content:
            start = m.start("value") + value.index(content[0])
            yield m.group("tag").rsplit(":", 1)[-1], start, start + len(content)


# An Ansible inventory's host line: a host, then its variables as `name=value` (after
# the host's name, separated by blanks), e.g. `alpha ansible_host=10.0.0.2
# ansible_become_pass=…`
_HOST_LINE = lazy(
    r"(?m)^[ \t]*[A-Za-z0-9][^\s=]*(?P<vars>(?:[ \t]+[A-Za-z_]\w*="
    r"(?:'[^'\n]*'|\"[^\"\n]*\"|[^\s'\"]+))+)[ \t]*$"
)
_HOST_VAR = lazy(r"[ \t]+([A-Za-z_]\w*)=('[^'\n]*'|\"[^\"\n]*\"|[^\s'\"]+)")


def inventory_pairs(text: str) -> Iterator[Pair]:
    """The variables of an INI inventory's host lines (``host name=value …``)."""
    if "=" not in text:
        return
    for line in _HOST_LINE.finditer(text):
        for m in _HOST_VAR.finditer(text, line.start("vars"), line.end("vars")):
            quoted = m.group(2)[:1] in ("'", '"')
            yield m.group(1), m.start(2) + quoted, m.end(2) - quoted


def also_pairs(text: str, fmt: str) -> Iterator[Pair]:
    """What a TOML file (inline tables) or an INI file (inventory host lines) holds
    besides its ``name = value`` lines."""
    return inline_pairs(text, fmt) if fmt == "toml" else inventory_pairs(text)


_B2_TYPE = lazy(r"(?m)^[ \t]*type[ \t]*=[ \t]*b2[ \t]*$")


def rclone_b2(text: str, at: int) -> bool:
    """Whether the INI section holding ``at`` is an rclone remote of ``type = b2``."""
    start = text.rfind("\n[", 0, at) + 1
    end = text.find("\n[", at)
    return _B2_TYPE.search(text, start, len(text) if end == -1 else end) is not None


_SENSITIVE = lazy(r'"sensitive"[ \t]*:[ \t]*true\b')


def sensitive_object(text: str, at: int) -> bool:
    """Whether the pretty-printed JSON object holding ``at`` says ``"sensitive": true``
    (a Terraform state's output, whose ``value`` is then a secret whatever its name)."""
    if '"sensitive"' not in text:
        return False
    start = text.rfind("{", 0, at)
    end = text.find("}", at)
    if start == -1 or end == -1 or "{" in text[start + 1 : at] or "{" in text[at:end]:
        return False  # (an object holding others: not one output's)
    return _SENSITIVE.search(text, start, end) is not None
