"""A name judged with its value: an environment variable named ``*_KEY`` holding a
generated value (:func:`env_key_kind`), names whose value decides (``WG_PRIVATE``, a
YAML ``auth:``: :func:`named_value_kind`), a stand-in that names itself
(:func:`names_itself`).  The name rules alone are :mod:`secretkit.scan.filters`'."""

from __future__ import annotations

from functools import lru_cache

from secretkit.lazy_re import lazy
from secretkit.scan.filters import not_secret, public_name, secret_name, words
from secretkit.scan.value_shapes import generated_hex, random_looking

# Names whose value decides (their last word): "private" (WG_PRIVATE, wireguard.private,
# ssh.priv) holds a private key when the value has a key's shape (a WireGuard key's
# base64, a key's hex); "auth" (auth, basic_auth, HTTP_AUTH) holds credentials when the
# value is ``user:password`` or generated.  ``private = true``, a CIDR, a path, a
# service's name, ``auth: ldap`` or a URL are not.
_VALUE_DECIDES = {"private": "private-key", "priv": "private-key", "auth": "credentials"}
# A name that is only "key" (homepage's widgets: `key: <the service's API key>`, as
# Sonarr, Radarr, Jellyfin and Paperless hand them out) holds an API key when the value
# is one generated token of 20+ characters: lower-case hex (`openssl rand -hex`), or
# letters and digits both; a GPG fingerprint (upper-case hex), a path, a label
# selector (`kubernetes.io/hostname`), a key binding or a word are not.
_BARE_KEY = lazy(r"[A-Za-z0-9_-]{20,}")
_KEY_SHAPE = lazy(r"[A-Za-z0-9+/_-]{32,}={0,2}")
_TOKEN_SHAPE = lazy(r"[A-Za-z0-9+/_.~-]{16,}={0,2}")
_USER_PASSWORD = lazy(r"[A-Za-z0-9._@+-]+:([^\s/][^\s]{7,})")


@lru_cache(maxsize=4096)
def value_decides(name: str) -> str | None:
    """The kind :func:`named_value_kind` may give ``name``'s value, or None."""
    parts = words(name)
    if parts == ["key"]:
        return "api-key"
    kind = _VALUE_DECIDES.get(parts[-1]) if parts else None
    return None if kind is None or public_name(name) else kind


def named_value_kind(name: str, value: str) -> str | None:
    """The kind of secret ``value`` is under a :func:`value_decides` name, or None."""
    kind = value_decides(name)
    text = value.strip()
    if kind == "api-key":
        if _BARE_KEY.fullmatch(text) is None:
            return None
        return kind if generated_hex(text) or random_looking(text) else None
    if kind == "private-key":
        shaped = _KEY_SHAPE.fullmatch(text) is not None and not _encoded_text(text)
        return kind if shaped and (random_looking(text) or generated_hex(text)) else None
    if kind == "credentials":
        pair = _USER_PASSWORD.fullmatch(text)
        if pair is not None:
            return None if not_secret(pair[1]) else kind
        mixed = not text.islower() and not text.isupper()  # (ldap-backend-2024: words)
        token = _TOKEN_SHAPE.fullmatch(text) is not None
        return kind if token and mixed and random_looking(text) else None
    return None


def _encoded_text(value: str) -> bool:
    """Base64 of text, not of a key's random bytes: terraform state's ``"private":
    "eyJ…"`` is a provider's JSON (a key decodes to bytes that are mostly not text)."""
    import base64
    import binascii

    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in raw)
    return len(raw) >= 16 and printable >= 0.9 * len(raw)


_ENV_KEY_NOT_SECRET = frozenset(
    {"gpg", "pgp", "gnupg", "ssh", "license", "sort", "primary", "foreign", "partition", "hot"}
)


_STRONG_TOKEN = lazy(r"[A-Za-z0-9_+/=-]{16,}")


def suffix_key(name: str) -> bool:
    """A ``*_key``/``*Key`` setting (``invidious_companion_key``): judged by its value
    (:func:`suffix_key_kind`)."""
    parts = words(name)
    return len(parts) > 1 and parts[-1] == "key" and not public_name(name)


def suffix_key_kind(name: str, value: str) -> str | None:
    """A Nix setting named ``*_key``/``*Key`` (``invidious_companion_key``,
    ``session_key``) holding a generated value: lower-case hex of 32 or more (not under
    a digest's name), or one token of 16 or more with upper and lower case and digits.
    A cache key (``v2-abc123def456``), an object key (a path), an idempotency key (words)
    and a UUID are none."""
    text = value.strip()
    parts = set(words(name))
    if names_itself(name, value) or not parts.isdisjoint(_DIGEST_WORDS | _ENV_KEY_NOT_SECRET):
        return None
    if generated_hex(text):
        return "secret-key"
    mixed = (
        any(c.isupper() for c in text) and any(c.islower() for c in text)
        and any(c.isdigit() for c in text)
    )  # fmt: skip
    token = _STRONG_TOKEN.fullmatch(text) is not None
    return "secret-key" if token and mixed and random_looking(text) else None


def names_itself(name: str, value: str) -> bool:
    """``MONGO_PASS = "MONGO_PASS"``: a stand-in that names itself, not a secret; and
    code that copies a field of the same name (Lua's ``token = ev.data.params.token,``,
    ``password = self.password;``)."""
    if not name:
        return False
    text = value.strip()
    if text.lower() == name.lower():
        return True
    chain = _FIELD_CHAIN.fullmatch(text)
    return chain is not None and words(chain[1]) == words(name)


# A field read through objects: ``a.b.c`` (or ``a->b``, ``A::b``), its last name captured,
# and the "," or ";" that may end it in a table or a statement
_FIELD_CHAIN = lazy(
    r"[A-Za-z_$][\w$]*(?:(?:\.|->|::)[A-Za-z_$][\w$]*)*(?:\.|->|::)([A-Za-z_$][\w$]*)[,;]?"
)


def env_key_kind(name: str, value: str) -> str | None:
    """An environment variable named ``*_KEY`` (``MEILI_MASTER_KEY``,
    ``PAPERLESS_SECRET_KEY``, ``RESTIC_KEY``) holding a generated value: a secret key.
    Names of key ids, GPG/SSH key references and the like are not."""
    if names_itself(name, value):
        return None
    kind = _env_name_kind(name)
    if kind is None:
        return named_value_kind(name, value)
    if kind != "key-if-random":
        return kind
    if random_looking(value):
        return "secret-key"
    return "secret-key" if generated_hex(value) and _DIGEST_WORDS.isdisjoint(words(name)) else None


# Names whose hex value is a digest, not a key (CACHE_KEY = <sha256>)
_DIGEST_WORDS = frozenset(
    {"cache", "hash", "checksum", "sha", "sha1", "sha256", "digest", "etag", "commit", "rev"}
)


@lru_cache(maxsize=4096)
def _env_name_kind(name: str) -> str | None:
    """What the name alone tells :func:`env_key_kind`: a kind, None, or
    ``"key-if-random"`` (a ``*_KEY`` name: a secret key when its value looks generated)."""
    kind = secret_name(name)
    if kind is not None:
        return kind
    parts = words(name)
    if len(parts) < 2 or parts[-1] != "key" or public_name(name):
        return None
    if any(p in _ENV_KEY_NOT_SECRET for p in parts):
        return None
    return "key-if-random"


# nix.conf's access-tokens (and extra-access-tokens): blank-separated host=token pairs
_ACCESS_TOKENS = frozenset({("access", "tokens"), ("extra", "access", "tokens")})
_HOST_TOKEN = lazy(r"([^\s=]+)=(\S+)")


def host_tokens(name: str, value: str) -> list[tuple[int, int]] | None:
    """Under nix.conf's ``access-tokens`` (``host=token`` pairs between blanks, as
    ``nix.settings.access-tokens`` and its text hold them): the spans of the tokens
    that are secrets (a hex one too: Gitea's tokens are 40 hex digits), [] when none
    is; None for another name or a value that is not such pairs."""
    if tuple(words(name)) not in _ACCESS_TOKENS:
        return None
    pairs = [_HOST_TOKEN.fullmatch(part) for part in value.split()]
    if not pairs or any(pair is None for pair in pairs):
        return None
    spans = []
    at = 0
    for pair in pairs:
        assert pair is not None
        at = value.index(pair.group(0), at)
        token = pair.group(2)
        if not not_secret(token, token=True):
            spans.append((at + pair.start(2), at + pair.end(2)))
        at += len(pair.group(0))
    return spans
