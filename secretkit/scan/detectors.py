"""Token-format detectors: a Protocol and a literal registry.

Each detector looks at one piece of text (a Nix string's value, a value from a
structured file, a whole text file) together with its :class:`Context` (the names
around it) and yields :class:`Match` spans into that text.  The registry
:data:`DETECTORS` is a plain dict; nothing is discovered or loaded from paths.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass

from secretkit.lazy_re import lazy
from secretkit.scan import filters, htpasswd_forms
from secretkit.scan.command_detectors import STARTS as STARTS
from secretkit.scan.command_detectors import CommandSecret, UrlCredentials
from secretkit.scan.detector_types import Context as Context
from secretkit.scan.detector_types import Detector, Match
from secretkit.scan.detector_types import RegexDetector as RegexDetector
from secretkit.scan.match_starts import contains, may_hold, signing_key_starts, word_starts
from secretkit.scan.postfix_maps import PostfixInlinePasswords
from secretkit.scan.prefixed_tokens import PrefixedTokens
from secretkit.scan.value_shapes import hashlike
from secretkit.scan.vendor_filter import vendor_hint as vendor_hint
from secretkit.scan.vendor_filter import vendor_rules as vendor_rules


def _age_secret_key_valid(value: str) -> bool:
    from secretkit.sops.keysources.bech32 import Bech32Error, decode

    try:
        hrp, payload = decode(value)
    except Bech32Error:
        return False
    return hrp == "age-secret-key-" and len(payload) == 32


def _nix_signing_key_valid(value: str) -> bool:
    _, _, b64 = value.partition(":")
    try:
        return len(base64.b64decode(b64, validate=True)) == 64
    except (binascii.Error, ValueError):
        return False


def _mixed(value: str) -> bool:
    """Random-looking: letters and digits both present (not a word, not a number)."""
    return any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


def _random(value: str) -> bool:
    """Random-looking base64: upper and lower case letters and digits all present (a
    run of one letter, a word, a number or an ``xxxx`` placeholder is none)."""
    return (
        any(c.isdigit() for c in value)
        and any(c.isupper() for c in value)
        and any(c.islower() for c in value)
    )


def _pushover_valid(value: str) -> bool:
    return _mixed(value) and not hashlike(value)


_PRIVATE_KEY_BEGIN = lazy(
    r"-----BEGIN ((?:RSA |DSA |EC |OPENSSH |ENCRYPTED |SSH2 ENCRYPTED )?PRIVATE KEY|"
    r"PGP PRIVATE KEY BLOCK|OpenVPN Static key V1|OpenVPN tls-crypt-v2 (?:client|server) key)-----"
)


# What follows a key's header when its END is missing (a key cut short): base64 lines,
# after PGP's "Name: value" headers, on lines or after "\n" escapes
_BODY_FOLLOWS = lazy(
    r"""(?:\s|\\[nr]|["'])*(?:[A-Za-z-]+: [^\n]*(?:\s|\\[nr])*)*[A-Za-z0-9+/=]{40}"""
)


# A run of a key body's characters as long as one of its lines at least
_BODY_LINE = lazy(r"[A-Za-z0-9+/=]{32}")


@dataclass(frozen=True)
class PrivateKeyBlock:
    """PEM / OpenSSH / PGP private key blocks and OpenVPN's shared keys (``secret``,
    ``tls-auth``, ``tls-crypt`` static keys; tls-crypt-v2 keys), BEGIN to END (or to
    the end of text)."""

    rule: str = "private-key"
    kind: str = "private-key"
    pattern: re.Pattern[str] = _PRIVATE_KEY_BEGIN
    shortest: int = 27  # (a key block starts with a match of the pattern)

    def find(self, text: str, ctx: Context) -> Iterator[Match]:
        if not may_hold(text, "-----begin") or "-----BEGIN" not in text:
            return
        for m in self.pattern.finditer(text):
            end_marker = f"-----END {m.group(1)}-----"
            end = text.find(end_marker, m.end())
            if end == -1 and _BODY_FOLLOWS.match(text, m.end()) is None:
                continue  # a header alone (echo "-----BEGIN …-----" in a script)
            stop = end + len(end_marker) if end != -1 else len(text)
            body = text[m.end() : stop]
            # A template with the body left out is no key, nor code between two echoed
            # markers: a key's body has lines of base64 (or OpenVPN's 32 hex digits)
            if sum(c.isalnum() for c in body) < 40 or _BODY_LINE.search(body) is None:
                continue
            yield Match(m.start(), stop, self.rule, self.kind)


DETECTORS: dict[str, Detector] = {
    "tailscale-auth-key": RegexDetector(
        "tailscale-auth-key",
        "auth-key",
        lazy(r"\btskey-(?:[a-z]+-)?[A-Za-z0-9]{6,}-[A-Za-z0-9]{16,}"),
        anchors=("tskey-",),
        starts=lambda text: word_starts(text, ("tskey-",)),
        shortest=29,
    ),
    "age-secret-key": RegexDetector(
        "age-secret-key",
        "private-key",
        lazy(r"AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}"),
        _age_secret_key_valid,
        anchors=("AGE-SECRET-KEY-1",),
        shortest=74,
    ),
    "private-key": PrivateKeyBlock(),
    "nix-signing-key": RegexDetector(
        "nix-signing-key",
        "private-key",
        lazy(r"(?<![A-Za-z0-9+/])[A-Za-z0-9._-]+:[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])"),
        _nix_signing_key_valid,
        anchors=("==",),
        starts=signing_key_starts,
        shortest=90,
    ),
    "pushover-token": RegexDetector(
        "pushover-token",
        "token",
        # (30 characters, case-sensitive, [A-Za-z0-9]: the API's own words; most are
        # lower case, the API documentation's example is not)
        lazy(r"(?<![A-Za-z0-9])([A-Za-z0-9]{30})(?![A-Za-z0-9])"),
        _pushover_valid,
        needs=("pushover",),
        shortest=30,
    ),
    "syncthing-api-key": RegexDetector(
        "syncthing-api-key",
        "api-key",
        lazy(r"(?<![A-Za-z0-9-])([A-Za-z0-9]{32})(?![A-Za-z0-9-])"),
        lambda v: _mixed(v) and not hashlike(v),
        needs=("syncthing", "apikey", "api_key", "credentials", "x-api-key"),
        shortest=32,
    ),
    "command-secret": CommandSecret(),
    "url-credentials": UrlCredentials(),
    # A Discord webhook's URL is its credential: whoever holds it posts to the channel
    "discord-webhook": RegexDetector(
        "discord-webhook",
        "token",
        lazy(
            r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{17,20}/"
            r"([A-Za-z0-9_-]{60,80})"
        ),
        anchors=("/api/webhooks/",),
        shortest=111,
    ),
    # A Telegram bot's token, also inside the API URLs scripts call (/bot<token>/sendMessage):
    # detect-secrets' form matches a whole value only
    "telegram-bot-token": RegexDetector(
        "telegram-bot-token",
        "token",
        lazy(r"(?<![0-9])[0-9]{6,12}:AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])"),
        anchors=(":AA",),
        shortest=42,
    ),
    # OpenAI's project/service keys (detect-secrets knows only the older T3BlbkFJ form)
    # and Anthropic's keys
    "openai-api-key": RegexDetector(
        "openai-api-key",
        "api-key",
        lazy(r"(?<![A-Za-z0-9_-])sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}"),
        anchors=("sk-",),
        # (tried only at each "sk-": led by a lookbehind, the pattern was tried at every
        # position of each text holding "sk-", and "disk-" is in most Nix histories)
        starts=lambda text: word_starts(text, ("sk-",)),
        shortest=48,
    ),
    "anthropic-api-key": RegexDetector(
        "anthropic-api-key",
        "api-key",
        lazy(r"(?<![A-Za-z0-9_-])sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{80,}"),
        anchors=("sk-",),  # (asked once for both key formats)
        starts=lambda text: word_starts(text, ("sk-ant-",)),
        shortest=93,
    ),
    # Formats with a prefix of their own that detect-secrets does not know (GitHub's
    # fine-grained tokens, Google's API keys, npm's and Hugging Face's tokens): found
    # under any name, as gitleaks finds them
    "github-fine-grained-token": RegexDetector(
        "github-fine-grained-token",
        "token",
        lazy(r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{82}(?![A-Za-z0-9_])"),
        lambda v: _mixed(v[len("github_pat_") :]),
        anchors=("github_pat_",),
        starts=lambda text: word_starts(text, ("github_pat_",)),
        shortest=93,
    ),
    "google-api-key": RegexDetector(
        "google-api-key",
        "api-key",
        lazy(r"(?<![A-Za-z0-9_-])AIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])"),
        lambda v: _mixed(v[4:]) and not filters.not_secret(v, token=True),
        anchors=("AIza",),
        starts=lambda text: word_starts(text, ("AIza",)),
        shortest=39,
    ),
    "npm-token": RegexDetector(
        "npm-token",
        "token",
        lazy(r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9_])"),
        lambda v: _mixed(v[4:]),
        anchors=("npm_",),
        starts=lambda text: word_starts(text, ("npm_",)),
        shortest=40,
    ),
    "huggingface-token": RegexDetector(
        "huggingface-token",
        "token",
        # (34 letters of both cases: `hf_` and a 34-letter lower-case word is a name)
        lazy(r"(?<![A-Za-z0-9_])hf_[A-Za-z]{34}(?![A-Za-z0-9_])"),
        lambda v: sum(c.isupper() for c in v) >= 2 and sum(c.islower() for c in v) >= 4,
        anchors=("hf_",),
        starts=lambda text: word_starts(text, ("hf_",)),
        shortest=37,
    ),
    # DigitalOcean's personal access, OAuth and refresh tokens, Docker Hub's access
    # tokens, Grafana's service account tokens: prefixes of their own (gitleaks' forms)
    "digitalocean-token": RegexDetector(
        "digitalocean-token",
        "token",
        lazy(r"(?<![A-Za-z0-9_])do[opr]_v1_[a-f0-9]{64}(?![A-Za-z0-9_])"),
        anchors=("_v1_",),
        shortest=71,
    ),
    "docker-hub-token": RegexDetector(
        "docker-hub-token",
        "token",
        lazy(r"(?<![A-Za-z0-9_])dckr_pat_[A-Za-z0-9_-]{27}(?![A-Za-z0-9_-])"),
        lambda v: _mixed(v[len("dckr_pat_") :]),
        anchors=("dckr_pat_",),
        shortest=36,
    ),
    "grafana-service-account-token": RegexDetector(
        "grafana-service-account-token",
        "token",
        lazy(r"(?<![A-Za-z0-9_])glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}(?![A-Za-z0-9_])"),
        lambda v: _mixed(v[len("glsa_") : -9]),
        anchors=("glsa_",),
        shortest=46,
    ),
    # Prefixes of their own and a body of a fixed or bounded length, in the forms of
    # gitleaks' default config (config/gitleaks.toml, rule id in each comment): found
    # under any name.  Each is asked only of a text holding its prefix.
    "vault-service-token": RegexDetector(  # gitleaks vault-service-token (its hvs. form)
        "vault-service-token",
        "token",
        lazy(r"(?<![A-Za-z0-9_.-])hvs\.[A-Za-z0-9_-]{90,120}(?![A-Za-z0-9_-])"),
        lambda v: _random(v[len("hvs.") :]),
        anchors=("hvs.",),
        shortest=94,
    ),
    "vault-batch-token": RegexDetector(  # gitleaks vault-batch-token
        "vault-batch-token",
        "token",
        lazy(r"(?<![A-Za-z0-9_.-])hvb\.[A-Za-z0-9_-]{138,300}(?![A-Za-z0-9_-])"),
        lambda v: _random(v[len("hvb.") :]),
        anchors=("hvb.",),
        shortest=142,
    ),
    "1password-service-account-token": RegexDetector(  # gitleaks 1password-service-account-token
        "1password-service-account-token",
        "token",
        lazy(r"(?<![A-Za-z0-9_])ops_eyJ[A-Za-z0-9+/]{250,}={0,3}(?![A-Za-z0-9+/=_-])"),
        lambda v: _random(v[len("ops_eyJ") :]),
        anchors=("ops_eyJ",),
        shortest=257,
    ),
    # (case-sensitive, unlike gitleaks' form: GLC_ leads C function names)
    "grafana-cloud-api-token": RegexDetector(  # gitleaks grafana-cloud-api-token
        "grafana-cloud-api-token",
        "token",
        lazy(r"(?<![A-Za-z0-9_])glc_[A-Za-z0-9+/]{32,400}={0,3}(?![A-Za-z0-9+/=_-])"),
        lambda v: _random(v[len("glc_") :]),
        anchors=("glc_",),
        shortest=36,
    ),
    # A healthchecks.io ping URL: its UUID, or the project's ping key before a slug, is
    # the only authentication ("each UUID is a secret", healthchecks.io/docs/slug_urls):
    # whoever holds it can report a failing backup as done
    "healthchecks-ping-url": RegexDetector(
        "healthchecks-ping-url",
        "token",
        lazy(
            r"\b(?:hc-ping\.com|hchk\.io)/(?:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
            r"[0-9a-f]{12})|([A-Za-z0-9_-]{22})/[a-z0-9_-])"
        ),
        anchors=("hc-ping.com/", "hchk.io/"),
        severity="medium",
        shortest=32,
    ),
    # Sentry, Fly.io, Doppler, … (gitleaks' forms, one detector: one search for all prefixes)
    "prefixed-token": PrefixedTokens(),
    # OpenVPN's inline credentials: "<auth-user-pass>", the user, the password, the end
    "openvpn-credentials": RegexDetector(
        "openvpn-credentials",
        "password",
        lazy(
            r"<auth-user-pass>[ \t]*\r?\n[ \t]*[^\s<][^\r\n]*\r?\n"
            r"[ \t]*([^\s<][^\r\n]*?)[ \t]*\r?\n[ \t]*</auth-user-pass>"
        ),
        anchors=("<auth-user-pass>",),
        shortest=38,
    ),
    # htpasswd entries written in a configuration (traefik's basicAuth.users, Caddy's):
    # a crackable hash, a low finding as a hashedPassword is (scan.htpasswd_forms)
    "password-hash": RegexDetector(
        "password-hash",
        "password-hash",
        htpasswd_forms.ENTRY,
        anchors=htpasswd_forms.ANCHORS,
        severity="low",
        shortest=13,
    ),
    # Postfix's `smtp_sasl_password_maps = inline:{ [relay]:587=user:password }`
    "postfix-sasl-password": PostfixInlinePasswords(),
}

# A text that calls a keyed service's API says what its values are for, as a name
# around it would: ``curl -F token=… -F user=… https://api.pushover.net/1/messages.json``.
_SERVICE_HOSTS = (("api.pushover.net", "pushover"),)


def in_context(names: tuple[str, ...], text: str) -> Context:
    """The context of ``text`` under ``names``, with the services whose API host
    ``text`` names put first (the key, the last name, stays the key)."""
    services = tuple(name for host, name in _SERVICE_HOSTS if contains(text, host))
    return Context(services + names)


_USER_FIELD = lazy(r"user(?:[_-]?key)?['\"]?[ \t]*[=:][ \t]*['\"]?$", re.IGNORECASE)


def pushover_kind(ctx: Context, text: str = "", start: int = 0) -> str:
    """``pushover-user-key`` for the user key (named so by its key, or by the form
    field before it: ``user=…``), ``pushover-token`` for the app token."""
    if "user" in filters.words(ctx.key) or _USER_FIELD.search(text, max(0, start - 16), start):
        return "pushover-user-key"
    return "pushover-token"
