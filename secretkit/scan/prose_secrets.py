"""A secret written in prose: ``# old pushover api key: <value>``, ``the token is
<value>`` in a note or a commit message.

The pair readers see ``name = value`` where a format puts it; a sentence has no such
shape, so a comment or a note that keeps an old key was read as words and passed.
Here a secret's name (:func:`secretkit.scan.filters.secret_name` of the last words
before the value) followed by ``:``, ``=``, ``is`` or ``was`` and one generated-looking
value is a finding: 16 characters or more (12 set with ``=`` or ``:`` after a password's
name, with upper and lower case and digits), letters and digits both, no spaces, not hex
(key ids, fingerprints and commit ids are; after a password's name it is one, made by
``openssl rand -hex``, unless a digest's length), not words run together (an identifier), not
an example's stand-in (``sk-abc123secretkey456``) and nothing the filters call a
reference, a public key, a hash, a placeholder or a name.  Words ("the one in the safe")
and short values stay quiet.

It reads Nix comments (:mod:`secretkit.scan.nix`) and prose files
(:mod:`secretkit.scan.text_files`: notes, READMEs, commit and tag messages); the
structured formats have their own readers, and source code has identifiers after
names.
"""

from __future__ import annotations

import re

from secretkit.lazy_re import lazy
from secretkit.scan import filters
from secretkit.scan.match_starts import lines_with, may_hold
from secretkit.scan.value_shapes import random_looking

RULE = "prose-secret"
_WORDS = ("pass", "token", "secret", "key", "cred", "psk", "pw")
# Up to three words, the last one ending in a secret word, then the separator and the
# value (quoted or not); the value's end is checked after the match.
_PAIR = lazy(
    r"(?<![A-Za-z0-9_])(?P<name>(?:[A-Za-z][A-Za-z0-9]*[ \t_.-]){0,3}"
    r"[A-Za-z]*(?:pass(?:word|wd|phrase)?|token|secret|key|psk|pw|credentials?))"
    # (Markdown's bold around the name or the separator: `**root password:** <v>`)
    r"(?![A-Za-z0-9_])(?:\*\*|__)?[ \t]*(?P<sep>:|=|\bis\b|\bwas\b)(?:\*\*|__)?[ \t]*[\"'`]?"
    r"(?P<value>[A-Za-z0-9+/_.~=!@#%^&*?-]{12,256})(?![A-Za-z0-9+/_~=!@#%^&*?-])",
    re.IGNORECASE,
)
_HEX = lazy(r"(?:0x)?[0-9A-Fa-f]+")
# Words and numbers run together (getTokenFromFile2, correct-horse-7): an identifier
# in a sentence about code, or an example's stand-in; a generated value has short runs.
# Each word and number runs to its end (the lookaheads): one way to read a value, so a
# failing match gives up at once (read in every way, 32 digits and "=" took minutes).
_WORDY = lazy(r"(?:[A-Za-z][a-z]{2,}(?![a-z])|[0-9]+(?![0-9])|[_.-])+")
# An example's value says what it stands for: sk-abc123secretkey456, dummy-token-123
_DEMO = lazy(r"(?i)secret|passw|token|example|sample|dummy|fake|test|changeme|xxx|hunter2")
_MIN = 16


def find(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int, str]]:
    """``(start, end, kind)`` of each value written after a secret's name in
    ``text[start:end]`` (offsets into ``text``)."""
    if start == 0 and end is None:
        part = text  # (the text being scanned: may_hold asks its remembered lower case)
        if not any(may_hold(part, w) for w in _WORDS):
            return []
    else:
        part = text[start : len(text) if end is None else end]
    lines = lines_with(part, _WORDS)
    spans = [(0, len(part))] if lines is None else lines
    out: list[tuple[int, int, str]] = []
    for line_start, line_end in spans:
        at = line_start
        while (m := _PAIR.search(part, at, line_end)) is not None:
            value = m.group("value").rstrip(".")
            kind = filters.secret_name(m.group("name"))
            assigned = m.group("sep") in (":", "=")
            if kind is None or kind == "password-hash" or not _generated(value, kind, assigned):
                at = m.start("value")  # ("wg key: password=<v>": the value holds a pair)
                continue
            out.append((start + m.start("value"), start + m.start("value") + len(value), kind))
            at = m.end()
    return out


def _chosen(value: str) -> bool:
    """A password a person chose, written after a password's name (``root password:
    Sommer2019!stian``, ``passphrase is orbit-saddle-7-pepper-glacier``): 12 characters
    or more, letters and a digit or a symbol, no example's word in it."""
    return (
        len(value) >= _MIN_PASSWORD
        and any(c.isalpha() for c in value)
        and any(c.isdigit() or c in "!@#%^&*?" for c in value)
        and _DEMO.search(value) is None
        and not filters.not_secret(value)
    )


def _mixed(value: str) -> bool:
    return (
        any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(c.isdigit() for c in value)
    )


# Hex after these is a password (``openssl rand -hex 12``), not a key id, a fingerprint
# or a commit id, which follow a key's or a commit's name; a password set with "=" or ":"
# (`password=<v>` in a commit message) is shorter than a token: 12 characters do, when
# upper and lower case and digits are all in it
_PASSWORD_KINDS = ("password", "passphrase")
_MIN_PASSWORD = 12


def _generated(value: str, kind: str, assigned: bool = False) -> bool:
    shortest = _MIN
    if assigned and kind in _PASSWORD_KINDS and _mixed(value):
        shortest = _MIN_PASSWORD
    if kind in _PASSWORD_KINDS and _chosen(value):
        return True  # (a person's password after its name: helper-132)
    if len(value) < shortest or _DEMO.search(value) is not None or filters.not_secret(value):
        return False
    if _HEX.fullmatch(value) is not None:
        return kind in _PASSWORD_KINDS and random_looking(value.removeprefix("0x"))
    return _WORDY.fullmatch(value) is None and random_looking(value)
