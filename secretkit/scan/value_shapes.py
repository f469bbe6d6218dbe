"""What a value's characters say of it: generated (by a password generator, as a key's
hex or base64) or a digest's hex.  The filters (:mod:`secretkit.scan.filters`) and the
readers ask it once they know a name says "secret"."""

from __future__ import annotations

import re

from secretkit.lazy_re import lazy

_HEX = lazy(r"^[0-9a-fA-F]+$")
_GPG_FPR = lazy(r"^(?:0x)?[0-9A-Fa-f]{16}$|^(?:[0-9A-Fa-f]{4} ?){10}$|^[0-9A-F]{40}$")


_FINGERPRINT = lazy(r"^(?:0x)?[0-9A-F]{40}$|^[0-9A-Fa-f]{4}(?: {1,2}[0-9A-Fa-f]{4}){9}$")


def gpg_fingerprint(value: str) -> bool:
    """A GPG key's fingerprint as it is written: 40 upper-case hex digits, or ten groups
    of four (a generated hex secret is lower case: ``openssl rand -hex``)."""
    return bool(_FINGERPRINT.match(value.strip()))


def random_looking(value: str) -> bool:
    """A generated value: 12+ characters, no spaces, letters and digits both, not a
    digest or fingerprint."""
    text = value.strip()
    return (
        len(text) >= 12
        and not any(c.isspace() for c in text)
        and any(c.isdigit() for c in text)
        and any(c.isalpha() for c in text)
        and not hashlike(text)
    )


def mixed_generated(value: str) -> bool:
    """:func:`random_looking`, in both cases too (``hJ8kL2mN9pQ4rS7tV1wX``): what a
    password generator makes, unlike the word-and-number ``secretpass123`` of an
    example."""
    text = value.strip()
    return (
        random_looking(text) and any(c.isupper() for c in text) and any(c.islower() for c in text)
    )


# A host name reserved for examples (RFC 2606), anywhere in a value
_EXAMPLE_NAME = lazy(r"example\.(?:com|org|net)\b", re.IGNORECASE)
# What a value's parts are split at to find a generated one in it (a user, a host, a
# port and a password: `[smtp.example.net]:587 relay@example.net:<password>`)
_TEXT_PARTS = lazy(r"[\s:@/\[\]=,;\"'()<>]+")


def example_text(text: str) -> bool:
    """A text naming an example.com/.org/.net host, with no generated value in it: an
    example's (a real password whose domain alone was swapped for example.net is a
    generated one: helper-127)."""
    return bool(_EXAMPLE_NAME.search(text)) and not any(
        mixed_generated(part) for part in _TEXT_PARTS.split(text)
    )


def hashlike(value: str) -> bool:
    """Hex of a digest length (md5, git rev, sha256, sha512) or a GPG fingerprint."""
    text = value.strip()
    return bool((_HEX.match(text) and len(text) in (32, 40, 64, 128)) or _GPG_FPR.match(text))


def generated_hex(value: str) -> bool:
    """What ``openssl rand -hex N`` prints for a key (N ≥ 16): lower-case hex, 32
    characters or more.  A digest of that length looks the same, so this is asked
    only where a name already says "key" (``ENCRYPTION_KEY``) and no word of it says
    digest; a GPG fingerprint is written in upper case (or grouped) and is not one."""
    text = value.strip()
    return len(text) >= 32 and bool(_HEX.match(text)) and text == text.lower()


def generated_slashes(text: str) -> bool:
    """A generated value that starts with "/" (base64 has it, one in 64 times): a "+"
    in it, one random-looking name after the slash (``/hunter2xyzw1``), or names of
    letters and digits only in both cases, none a lower-case word (an AWS secret key's
    ``/K7MD…/bPxR…``) — never a file's path (dots, dashes, a directory's words)."""
    if "+" in text:
        return True
    names = text.strip("/").split("/")
    if len(names) == 1:
        return len(names[0]) >= 12 and random_looking(names[0])
    plain = text.replace("/", "")
    return (
        len(text) >= 20
        and not any(n.isalpha() and n.islower() for n in names)  # (home, var, secrets)
        and plain.isalnum()
        and plain.isascii()
        and any(c.isupper() for c in plain)
        and any(c.islower() for c in plain)
        and random_looking(plain)
    )


def basic_auth(value: str) -> bool:
    """Whether ``value`` is base64 of ``user:password`` (HTTP basic auth, as docker's
    ``auths.<registry>.auth`` and ``.dockerconfigjson`` hold it)."""
    import base64
    import binascii

    if len(value) < 8 or len(value) % 4 or not value.isascii():
        return False
    try:
        plain = base64.b64decode(value, validate=True).decode("ascii")
    except (binascii.Error, ValueError):
        return False
    user, colon, password = plain.partition(":")
    return bool(colon and user and password and plain.isprintable())
