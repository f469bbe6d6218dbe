"""Vendor tokens with a prefix of their own that neither detect-secrets nor the other
entries of :data:`secretkit.scan.detectors.DETECTORS` know: Sentry, Fly.io, Doppler,
Postman, Linear, Shopify, New Relic, Pulumi, Prefect, PlanetScale, RubyGems,
Dynatrace, Databricks, Alibaba Cloud, Perplexity, Heroku, Notion, Terraform Cloud,
OpenShift and Cloudflare's origin CA keys.  Found under any name, as gitleaks finds
them: each format is gitleaks' rule of the id in its comment, read in
gitleaks/gitleaks@b58d3f102cf3a2c84cb7f923d05c25c9b1aed84b ``config/gitleaks.toml``
(case-sensitive where gitleaks folds a body's case only for brevity, bounded on both
sides by what cannot continue the token).

One detector (:class:`PrefixedTokens`) holds them all, so that a text is searched
once for the prefixes (:data:`_GATES`, led by the separator each prefix ends with:
``_``, ``-``, ``.`` or ``~`` are rarer than the letters the prefixes begin with) and
only the formats whose prefix it holds are tried, each only where its prefix is.  The
gate never matches across a line break, so its answer is remembered per text and
carried to the next version of a text (:func:`~secretkit.scan.match_starts.line_test`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from secretkit.lazy_re import lazy
from secretkit.scan import filters
from secretkit.scan.detector_types import Context, Match
from secretkit.scan.match_starts import contains, line_test, matches_at, word_starts

# what cannot stand right before or after a token (it would be part of a longer word)
_BEFORE = r"(?<![A-Za-z0-9_])"
_AFTER = r"(?![A-Za-z0-9_])"


@dataclass(frozen=True)
class Format:
    """A token format told by its prefix: where a match starts and what follows it."""

    rule: str
    kind: str
    prefix: str  # where a match starts (or, for ``back`` > 0, a literal inside it)
    pattern: re.Pattern[str]
    back: int = 0  # how far before the prefix a match starts
    distinct: int = 8  # the fewest distinct characters a real token's body has


FORMATS: dict[str, Format] = {
    # gitleaks sentry-user-token
    "sentry-user-token": Format(
        "sentry-user-token", "token", "sntryu_", lazy(_BEFORE + r"sntryu_[a-f0-9]{64}" + _AFTER)
    ),
    # gitleaks sentry-org-token (a JWT-like body that names the region URL)
    "sentry-org-token": Format(
        "sentry-org-token",
        "token",
        "sntrys_",
        lazy(
            _BEFORE + r"sntrys_eyJpYXQiO[A-Za-z0-9+/]{10,200}"
            r"(?:LCJyZWdpb25fdXJs|InJlZ2lvbl91cmwi|cmVnaW9uX3VybCI6)[A-Za-z0-9+/]{10,200}={0,2}"
            r"_[A-Za-z0-9+/]{43}(?![A-Za-z0-9+/])"
        ),
    ),
    # gitleaks flyio-access-token (fo1_, fm1a_/fm1r_, fm2_)
    "flyio-token": Format(
        "flyio-token",
        "token",
        "fo1_",
        lazy(_BEFORE + r"fo1_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"),
    ),
    "flyio-macaroon": Format(
        "flyio-token",
        "token",
        "fm2_",
        lazy(_BEFORE + r"fm2_[A-Za-z0-9+/]{100,}={0,3}(?![A-Za-z0-9+/=])"),
    ),
    "flyio-macaroon-v1": Format(
        "flyio-token",
        "token",
        "fm1",
        lazy(_BEFORE + r"fm1[ar]_[A-Za-z0-9+/]{100,}={0,3}(?![A-Za-z0-9+/=])"),
    ),
    # gitleaks doppler-api-token
    "doppler-token": Format(
        "doppler-token", "token", "dp.pt.", lazy(r"(?<![\w.])dp\.pt\.[A-Za-z0-9]{43}" + _AFTER)
    ),
    # gitleaks postman-api-token
    "postman-api-key": Format(
        "postman-api-key",
        "api-key",
        "PMAK-",
        lazy(_BEFORE + r"PMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}" + _AFTER),
    ),
    # gitleaks linear-api-key
    "linear-api-key": Format(
        "linear-api-key", "api-key", "lin_api_", lazy(_BEFORE + r"lin_api_[A-Za-z0-9]{40}" + _AFTER)
    ),
    # gitleaks shopify-access-token, -custom-access-token, -private-app-access-token,
    # -shared-secret
    "shopify-token": Format(
        "shopify-token",
        "token",
        "shp",
        lazy(_BEFORE + r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}" + _AFTER),
    ),
    # gitleaks new-relic-user-api-key (the NRAK- prefix alone: gitleaks also asks for a
    # name around it)
    "new-relic-api-key": Format(
        "new-relic-api-key", "api-key", "NRAK-", lazy(_BEFORE + r"NRAK-[A-Z0-9]{27}" + _AFTER)
    ),
    # gitleaks pulumi-api-token
    "pulumi-token": Format(
        "pulumi-token", "token", "pul-", lazy(_BEFORE + r"pul-[a-f0-9]{40}" + _AFTER)
    ),
    # gitleaks prefect-api-token
    "prefect-token": Format(
        "prefect-token", "token", "pnu_", lazy(_BEFORE + r"pnu_[A-Za-z0-9]{36}" + _AFTER)
    ),
    # gitleaks planetscale-api-token, -password, -oauth-token
    "planetscale-token": Format(
        "planetscale-token",
        "token",
        "pscale_",
        lazy(_BEFORE + r"pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_=.-]{32,64}(?![A-Za-z0-9_=.-])"),
    ),
    # gitleaks rubygems-api-token
    "rubygems-token": Format(
        "rubygems-token", "token", "rubygems_", lazy(_BEFORE + r"rubygems_[a-f0-9]{48}" + _AFTER)
    ),
    # gitleaks dynatrace-api-token
    "dynatrace-token": Format(
        "dynatrace-token",
        "token",
        "dt0c01.",
        lazy(_BEFORE + r"dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}" + _AFTER),
    ),
    # gitleaks databricks-api-token
    "databricks-token": Format(
        "databricks-token", "token", "dapi", lazy(_BEFORE + r"dapi[a-f0-9]{32}(?:-\d)?" + _AFTER)
    ),
    # gitleaks alibaba-access-key-id
    "alibaba-access-key-id": Format(
        "alibaba-access-key-id", "key-id", "LTAI", lazy(_BEFORE + r"LTAI[A-Za-z0-9]{20}" + _AFTER)
    ),
    # gitleaks perplexity-api-key
    "perplexity-api-key": Format(
        "perplexity-api-key", "api-key", "pplx-", lazy(_BEFORE + r"pplx-[A-Za-z0-9]{48}" + _AFTER)
    ),
    # gitleaks heroku-api-key-v2
    "heroku-api-key": Format(
        "heroku-api-key",
        "api-key",
        "HRKU-AA",
        lazy(_BEFORE + r"HRKU-AA[A-Za-z0-9_-]{58}(?![A-Za-z0-9_-])"),
    ),
    # gitleaks notion-api-token
    "notion-token": Format(
        "notion-token", "token", "ntn_", lazy(_BEFORE + r"ntn_[0-9]{11}[A-Za-z0-9]{35}" + _AFTER)
    ),
    # gitleaks hashicorp-tf-api-token (Terraform Cloud / HCP Terraform)
    "terraform-cloud-token": Format(
        "terraform-cloud-token",
        "token",
        ".atlasv1.",
        lazy(r"(?<![A-Za-z0-9])[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}(?![A-Za-z0-9_=-])"),
        back=14,
    ),
    # gitleaks openshift-user-token
    "openshift-token": Format(
        "openshift-token",
        "token",
        "sha256~",
        lazy(_BEFORE + r"sha256~[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"),
    ),
    # gitleaks cloudflare-origin-ca-key
    "cloudflare-origin-ca-key": Format(
        "cloudflare-origin-ca-key",
        "api-key",
        "v1.0-",
        lazy(r"(?<![\w.])v1\.0-[a-f0-9]{24}-[a-f0-9]{146}" + _AFTER),
    ),
}

# The rules :class:`PrefixedTokens` reports (a format may have several spellings).
RULES: tuple[str, ...] = tuple(dict.fromkeys(f.rule for f in FORMATS.values()))
# The prefixes without a separator at their end to lead the gate with: asked with `in`.
_BARE = ("dapi", "LTAI")
# Every other prefix, as the gate looks for it: Fly.io's v1 macaroons and Shopify's four
# kinds spelled out (their format's prefix is only a part).
_HEADS = tuple(f.prefix for f in FORMATS.values() if f.prefix not in (*_BARE, "fm1", "shp"))
_HEADS += ("fm1a_", "fm1r_", "shpat_", "shpca_", "shppa_", "shpss_")
# (each up to its last separator: Heroku's HRKU-AA is looked for as HRKU-)
_HEADS = tuple(dict.fromkeys(h[: max(h.rfind(c) for c in "_.~-") + 1] for h in _HEADS))


def _gate_patterns() -> tuple[str, ...]:
    """For each separator a prefix of :data:`_HEADS` ends with, one pattern: the
    separator, the character before it, and a look back at the rest of each prefix.
    Led by one literal character, each is a fast scan of the text (one alternation of
    them all tried every alternative at every separator: three times slower)."""
    by_end: dict[str, list[str]] = {}
    for head in _HEADS:
        by_end.setdefault(head[-1], []).append(head)
    out = []
    for end, heads in by_end.items():
        before = "".join(sorted({re.escape(h[-2]) for h in heads}))
        looks = "|".join(f"(?<={re.escape(h)})" for h in heads)
        out.append(f"{re.escape(end)}(?<=[{before}]{re.escape(end)})(?:{looks})")
    return tuple(out)


class PrefixedTokens:
    """The detector of every :data:`FORMATS` entry (rule: each format's own)."""

    rule = "prefixed-token"
    shortest = 24  # (Alibaba's key id, the shortest format: LTAI and 20 characters)

    def find(self, text: str, ctx: Context) -> Iterator[Match]:
        del ctx  # (found under any name)
        bare = [p for p in _BARE if contains(text, p)]
        if not bare and not _ANY(text):
            return
        for fmt in FORMATS.values():
            if fmt.prefix in _BARE and fmt.prefix not in bare:
                continue
            if not contains(text, fmt.prefix):
                continue
            starts = word_starts(text, (fmt.prefix,))
            if fmt.back:
                starts = sorted({max(0, s - fmt.back) for s in starts})
            for m in matches_at(fmt.pattern, text, starts):
                value = m.group()
                body = value if fmt.back else value[len(fmt.prefix) :]
                if len(set(body)) < fmt.distinct or filters.not_secret(value, token=True):
                    continue
                yield Match(m.start(), m.end(), fmt.rule, fmt.kind)


_GATES = tuple(lazy(pattern) for pattern in _gate_patterns())
# (no prefix holds a line break: a text holds one exactly when one of its lines does)
_ANY = line_test(
    "prefixed-token", lambda text: any(gate.search(text) is not None for gate in _GATES)
)
