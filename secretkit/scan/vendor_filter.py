"""Which vendor token formats could match in a text: the cheap pre-filter that decides
whether detect-secrets is asked at all (:func:`vendor_rules`).

Its tests are substrings and regexes that never match across a line break (judged by
the characters beside a match at most): a test holds of a text exactly when it holds
of one of its lines, so its answer is remembered per text and carried from one version
of a text to the next (:func:`secretkit.scan.match_starts.line_test`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from secretkit.lazy_re import lazy
from secretkit.scan.match_starts import contains, line_test, may_hold

_CASELESS = ("pass", "token", "secret", "key", "cred", "psk", "auth")

# No vendor token is shorter: Slack's ``xox?-<digits>-<word>`` spans 8 characters
# at least, every other detect-secrets pattern more (a test holds it to the patterns
# of the installed detect-secrets).  A shorter text is not asked about at all.
SHORTEST_VENDOR = 8


@lru_cache(maxsize=256)
def _caseless(anchor: str) -> str | None:
    low = anchor.lower()
    return next((w for w in _CASELESS if w in low), None)


def holds(text: str, anchor: str) -> bool:
    """``anchor in text`` (a word the anchor holds in lower case is asked about first)."""
    word = _caseless(anchor)
    return (word is None or may_hold(text, word)) and contains(text, anchor)


# Vendor formats come from detect-secrets (secretkit.scan.adapters.detect_secrets);
# this cheap pre-filter decides whether a text is worth handing to it, so that
# detect-secrets is imported only when something could match.
# Which vendor formats (detect-secrets plugins, by secretkit rule id) could match in a
# text: fixed substrings of the format, or a regex that starts with a literal so that
# re's literal-prefix scan keeps it cheap on large files.  Only the plugins named
# here are run, and detect-secrets is imported only when one is.
_VENDOR_ANCHORS: dict[str, tuple[str, ...]] = {
    "github-token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    "gitlab-token": ("glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "GR1348941", "glcbt-",
                     "glimt-", "glptt-", "glagent-", "gloas-"),
    "slack-token": ("xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-", "hooks.slack.com"),
    "stripe-key": ("k_live_",),
    "npm-token": ("_authToken",),
    "pypi-token": ("pypi-AgE",),
    "sendgrid-key": ("SG.",),
    "azure-storage-key": ("AccountKey=",),
    "square-oauth-secret": ("sq0csp-",),
    "openai-token": ("T3BlbkFJ",),
    "telegram-bot-token": (":AA",),
}  # fmt: skip
_AWS_ID_HINT = lazy(r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}")
_AWS_SECRET_HINT = lazy(r"[0-9a-zA-Z/+]{40}['\"]")
# Formats without a fixed prefix: a regex that starts with a literal (re scans for
# it quickly), then the part before the literal is checked on the match.
_VENDOR_REGEXES: dict[str, tuple[tuple[re.Pattern[str], re.Pattern[str] | None], ...]] = {
    "discord-bot-token": (
        (
            lazy(r"\.[a-zA-Z\d_-]{6}\.[a-zA-Z\d_-]{27}"),
            lazy(r"[MNO][a-zA-Z\d_-]{23,25}\Z"),
        ),
    ),
    "twilio-key": ((lazy(r"AC[a-z0-9]{32}"), None), (lazy(r"SK[a-z0-9]{32}"), None)),
    "mailchimp-key": ((lazy(r"-us[0-9]{1,2}"), lazy(r"[0-9a-z]{32}\Z")),),
}


def _whole_word(regex: re.Pattern[str], text: str, before: re.Pattern[str] | None = None) -> bool:
    """A match (with ``before`` matching just ahead of it) not glued to letters or
    digits on either side, as the adapter demands of a token."""
    for m in regex.finditer(text):
        a, b = m.span()
        if before is not None:
            head = before.search(text, max(0, a - 40), a)
            if head is None:
                continue
            a = head.start()
        if (a == 0 or not text[a - 1].isalnum()) and (b == len(text) or not text[b].isalnum()):
            return True
    return False


def _anchor_groups() -> tuple[tuple[str, str | re.Pattern[str]], ...]:
    """The anchors of :data:`_VENDOR_ANCHORS` as few scans as possible: anchors of one
    rule sharing their first two characters become one regex led by their common
    prefix (re finds a literal prefix fast); a lone anchor stays a substring test."""
    out: list[tuple[str, str | re.Pattern[str]]] = []
    for rule, anchors in _VENDOR_ANCHORS.items():
        by_start: dict[str, list[str]] = {}
        for anchor in anchors:
            by_start.setdefault(anchor[:2], []).append(anchor)
        for group in by_start.values():
            if len(group) == 1:
                out.append((rule, group[0]))
                continue
            common = group[0]
            while not all(a.startswith(common) for a in group):
                common = common[:-1]
            rest = "|".join(re.escape(a[len(common) :]) for a in group)
            out.append((rule, re.compile(f"{re.escape(common)}(?:{rest})")))
    return tuple(out)


_AWS_ID_ANCHOR = lazy(r"A(?:KIA|SIA|BIA|CCA|3T)")


def _searching(regex: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda text: regex.search(text) is not None


def _whole_words(
    regex: re.Pattern[str], before: re.Pattern[str] | None = None
) -> Callable[[str], bool]:
    return lambda text: _whole_word(regex, text, before)


# The pre-filter's regex tests, each true of a text exactly when true of one of its
# lines (no pattern here matches a line break, and _whole_word reads only the
# characters beside a match): remembered, and carried to the next version of a text.
_ANCHOR_GROUPS: tuple[tuple[str, str | Callable[[str], bool]], ...] = tuple(
    (rule, anchor if isinstance(anchor, str) else line_test(f"vendor:{i}", _searching(anchor)))
    for i, (rule, anchor) in enumerate(_anchor_groups())
)
_AWS_SECRET = line_test("aws-secret", _searching(_AWS_SECRET_HINT))
# (every whole-word match of the hint holds the anchor: the two together are a line test)
_AWS_ID = line_test(
    "aws-id", lambda t: bool(_AWS_ID_ANCHOR.search(t)) and _whole_word(_AWS_ID_HINT, t)
)
_VENDOR_TESTS = {
    rule: tuple(
        line_test(f"{rule}:{i}", _whole_words(regex, before))
        for i, (regex, before) in enumerate(checks)
    )
    for rule, checks in _VENDOR_REGEXES.items()
}


# On a short text (a value, a literal) one search answers for many tests at once
# sooner than asking each: every anchor of _ANCHOR_GROUPS as one pattern, and the
# patterns every other regex test needs a match of (the AWS key id's anchor, each
# vendor test's regex) as another; each matches exactly where one of its parts
# does.  A large text asks about each, and what it learns is remembered and carried
# to its next version (match_starts.Known).
_ANY_ANCHOR = lazy(
    "|".join(re.escape(a) if isinstance(a, str) else a.pattern for _rule, a in _anchor_groups())
)
_ANY_TEST = lazy(
    "|".join(
        p.pattern
        for p in (_AWS_ID_ANCHOR, *(regex for c in _VENDOR_REGEXES.values() for regex, _ in c))
    )
)
_SHORT_TEXT = 256


def vendor_rules(text: str) -> frozenset[str]:
    """The vendor formats that could match in ``text`` (empty: none can)."""
    rules: set[str] = set()
    short = len(text) < _SHORT_TEXT
    if not short or _ANY_ANCHOR.search(text) is not None:
        for rule, anchor in _ANCHOR_GROUPS:
            if rule not in rules and (
                holds(text, anchor) if isinstance(anchor, str) else anchor(text)
            ):
                rules.add(rule)
    aws = may_hold(text, "aws") and (contains(text, "aws") or contains(text, "AWS"))
    tested = not short or _ANY_TEST.search(text) is not None
    if (aws and _AWS_SECRET(text)) or (tested and _AWS_ID(text)):
        rules.add("aws-access-key")
    if tested:
        for rule, tests in _VENDOR_TESTS.items():
            if any(test(text) for test in tests):
                rules.add(rule)
    return frozenset(rules)


def vendor_hint(text: str) -> bool:
    return bool(vendor_rules(text))
