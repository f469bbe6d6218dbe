"""Tokens glued to the bytes beside them in a binary file (or in a file's name).

A binary file is read for its printable runs (:mod:`secretkit.scan.decode`), and a
token stored in one rarely stands alone there: a SQLite record puts its header bytes
right before the text (``cighp_…``), a PNG puts the chunk's CRC right after it, and
any of those bytes may be a letter.  Every token rule wants the token to be a whole
word, so a stranger's Grafana database and screenshot, each holding a GitHub token,
passed as clean.

Here the formats that have a distinctive prefix and a fixed length are looked for
without the word boundaries, in binary text only (in text a longer word is not that
token): the match is the prefix and exactly the format's length, whatever is beside
it.  A value :func:`secretkit.scan.filters.not_secret` recognises (a placeholder such
as ``ghp_xxxx…``) stays quiet, as in text.
"""

from __future__ import annotations

import re

from secretkit.lazy_re import lazy
from secretkit.scan import filters
from secretkit.scan.detectors import _age_secret_key_valid
from secretkit.scan.hits import Hit

# rule → (kind, the format without its word boundaries); each is the rule's own
# format: detect-secrets' GitHub token (ghp_/gho_/ghu_/ghs_/ghr_ and 36 characters),
# GitHub's fine-grained token, AWS's access key id and age's secret key
# (secretkit.scan.detectors), and OpenAI's, Anthropic's and Tailscale's keys
GLUED: dict[str, tuple[str, re.Pattern[str]]] = {
    "github-token": ("token", lazy(r"gh[pousr]_[A-Za-z0-9]{36}")),
    "github-fine-grained-token": ("token", lazy(r"github_pat_[A-Za-z0-9_]{82}")),
    "aws-access-key": ("token", lazy(r"(?:AKIA|ASIA)[A-Z0-9]{16}")),
    "age-secret-key": ("private-key", lazy(r"AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}")),
    # (no fixed length: what follows it is taken in, as a longer key would be)
    "openai-api-key": ("api-key", lazy(r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}")),
    "anthropic-api-key": ("api-key", lazy(r"sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{80,}")),
    "tailscale-auth-key": (
        "auth-key",
        lazy(r"tskey-(?:[a-z]+-)?[A-Za-z0-9]{6,}-[A-Za-z0-9]{16,}"),
    ),
}
_ANCHORS = ("gh", "github_pat_", "AKIA", "ASIA", "AGE-SECRET-KEY-1", "tskey-", "sk-")
_DISTINCT = 8  # the fewest distinct characters a real token's body has


def glued_hits(text: str, taken: list[Hit]) -> list[Hit]:
    """The tokens of :data:`GLUED` in ``text`` (a binary file's printable runs) that
    no hit of ``taken`` covers already."""
    if not any(anchor in text for anchor in _ANCHORS):
        return []
    out: list[Hit] = []
    for rule, (kind, pattern) in GLUED.items():
        for m in pattern.finditer(text):
            start, end = m.span()
            if any(h.start < end and start < h.end for h in taken):
                continue
            value = m.group(0)
            if len(set(value[4:])) < _DISTINCT or filters.not_secret(value, token=True):
                continue
            if rule == "age-secret-key" and not _age_secret_key_valid(value):
                continue  # (its checksum, as in text)
            out.append(Hit(start, end, rule, kind, "high"))
    return out
