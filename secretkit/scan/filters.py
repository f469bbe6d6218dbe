"""Names that hold secrets, and values that are never secrets.

Two halves, both pure functions on strings:

* :func:`secret_name` — does an attribute / key / variable name hold a secret
  (``password``, ``user_key``, ``ADMIN_TOKEN``, ``pskRaw`` …) and of which kind;
  the safe siblings (``passwordFile``, ``token_file``, ``passCommand`` …) do not.
* :func:`not_secret` — why a value is no secret (a reference, a placeholder, a
  hash, a public key, ciphertext, an interpolation …), or None.
"""

from __future__ import annotations

import re
from functools import lru_cache

from secretkit.lazy_re import lazy
from secretkit.scan.value_shapes import example_text, generated_slashes, random_looking

# Words a name is split into: camelCase, snake_case, kebab-case, dotted, UPPER.
_WORD = lazy(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")

# Last word → kind.  A name is secret when its last word (or last two) is here.
_LAST_WORD = {
    "password": "password",
    "passwd": "password",
    "passphrase": "passphrase",
    "token": "token",
    "secret": "secret",
    "credentials": "credentials",
    "credential": "credentials",
    "psk": "psk",
    "apikey": "api-key",
    "authkey": "auth-key",
    "adminpass": "password",
    "dbpass": "password",
    "smtppass": "password",  # git's sendemail.smtppass
    "mailpass": "password",
    "remotepass": "password",  # offlineimap's remotepass (remotepassfile, …eval: not)
    "localpass": "password",  # offlineimap's IMAP-to-IMAP localpass
    "authtok": "password",  # sssd's ldap_default_authtok (PAM's word for a password)
    "pass": "password",
    "pw": "password",
    "pwd": "password",
    "tok": "token",
    "creds": "credentials",
    "cred": "credentials",
    "passcode": "password",
    "privkey": "private-key",
    "requirepass": "password",  # redis.conf's password (settings.requirepass)
    "masterauth": "password",  # redis.conf's password for its primary
}
# One lower-case word ending in a secret's name: ``rootpw``, ``rpcsecret``, ``csrftoken``
# (``…pass`` is not one: bypass, compass).
_NAME_ENDINGS = (
    ("password", "password"),
    ("passwd", "password"),
    ("secret", "secret"),
    ("token", "token"),
    ("pwd", "password"),
    ("pw", "password"),
)
_LAST_TWO = {
    ("api", "key"): "api-key",
    ("user", "key"): "user-key",
    ("private", "key"): "private-key",
    ("secret", "key"): "secret-key",
    ("network", "key"): "network-key",
    ("preshared", "key"): "preshared-key",
    ("pre", "shared"): "preshared-key",
    ("auth", "key"): "auth-key",
    ("access", "key"): "access-key",
    ("access", "tokens"): "token",
    ("auth", "tokens"): "token",
    ("api", "tokens"): "token",
    ("psk", "raw"): "psk",
    ("key", "base"): "secret-key",
    ("client", "secret"): "secret",
    ("encryption", "key"): "secret-key",
    ("signing", "key"): "private-key",
    ("account", "key"): "secret-key",
    ("master", "key"): "secret-key",
    ("app", "key"): "secret-key",
    ("priv", "key"): "private-key",
    ("shared", "key"): "preshared-key",
    ("enc", "key"): "secret-key",
    ("hmac", "key"): "secret-key",
    ("api", "hash"): "api-key",
    ("license", "key"): "api-key",  # geoipupdate's LicenseKey, New Relic's license_key
}
# Last two words that name a secret although one of them names public values:
# Telegram's api_id/api_hash pair (mautrix-telegram) is the app's credential.
_SECRET_DESPITE = frozenset({("api", "hash")})
# ``proxy_pass`` and friends (nginx) pass requests on, not passwords.
_NOT_PASSWORD_PASS = frozenset({"proxy", "fastcgi", "uwsgi", "grpc", "scgi", "memcached", "by"})
# Names that end in one of these refer to a secret elsewhere (or are not one).
_SAFE_LAST = frozenset(
    {
        "file",
        "files",
        "path",
        "paths",
        "command",
        "cmd",
        "eval",
        "dir",
        "url",
        "env",
        "type",
        "length",
        "name",
        "id",
        "ids",
        "prompt",
        "authentication",
        "auth",
        "policy",
        "mode",
        "enable",
        "enabled",
        "method",
        "hint",
        "expiry",
        "age",
        "lifetime",
        "ttl",
        "format",
        "source",
        "script",
    }
)
_PUBLICISH = frozenset({"public", "pub", "fingerprint", "fingerprints", "hash", "hashes"})
_HASHED = frozenset({"hashed"})


def words(name: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(name)]


# Words after a secret's name that say which one it is, not what it is: a stage, an age,
# a number or version, a form (``WEBHOOK_SECRET_TEST``, ``GITHUB_TOKEN_OLD``, ``PASSWORD2``,
# ``passwordPlain``, ``secret_value``).
_QUALIFIERS = frozenset(
    {
        "prod", "production", "dev", "devel", "development", "staging", "stage", "test",
        "testing", "live", "sandbox", "old", "new", "prev", "previous", "current", "next",
        "backup", "bak", "alt", "primary", "secondary", "tmp", "temp", "plain", "plaintext",
        "raw", "value", "val", "str", "string", "unencrypted",
    }
)  # fmt: skip


def _unqualified(parts: list[str]) -> list[str]:
    """``parts`` without the qualifiers and numbers (``v2``) at their end; a name that is
    nothing but them is kept whole."""
    end = len(parts)
    while end > 1:
        if parts[end - 1] in _QUALIFIERS or parts[end - 1].isdigit():
            end -= 1
            if parts[end].isdigit() and end > 1 and parts[end - 1] == "v":
                end -= 1
            continue
        break
    return parts[:end] if end else parts


@lru_cache(maxsize=4096)
def secret_name(name: str) -> str | None:
    """The kind of secret a name holds (``password``, ``token`` …), or None.

    ``hashedPassword`` and friends give ``password-hash``; a qualifier after the name
    (``DB_PASSWORD_PROD``, ``API_TOKEN_V2``, ``tokenRaw``) does not hide it."""
    parts = _unqualified(words(name))
    if not parts:
        return None
    if parts[-1] in _SAFE_LAST:
        return None
    if name.startswith("org.freedesktop."):
        return (
            None  # a D-Bus interface: xdg.portal.config's "….portal.Secret" = [ "gnome-keyring" ]
        )
    if parts[0] in ("load", "import", "request") and parts[-1] in ("credential", "credentials"):
        return None  # systemd Load/ImportCredential, zfs requestEncryptionCredentials: names
    if parts[0] == "from" and len(parts) >= 2:
        return None  # Woodpecker's and Drone's `from_secret: name`: a CI secret, by name
    if tuple(parts[-2:]) in _SECRET_DESPITE:
        return _LAST_TWO[(parts[-2], parts[-1])]
    if any(p in _PUBLICISH for p in parts):
        return None
    kind = None
    if len(parts) >= 2 and (parts[-2], parts[-1]) in _LAST_TWO:
        kind = _LAST_TWO[(parts[-2], parts[-1])]
    elif parts[-1] in _LAST_WORD:
        kind = _LAST_WORD[parts[-1]]
    else:
        last = parts[-1]
        kind = next(
            (k for end, k in _NAME_ENDINGS if last.endswith(end) and len(last) >= len(end) + 2),
            None,
        )
    if kind is None or parts == ["pwd"]:  # alone, pwd is the shell's working directory
        return None
    if parts[-1] == "pass" and len(parts) >= 2 and parts[-2] in _NOT_PASSWORD_PASS:
        return None
    if any(p in _HASHED for p in parts):
        return "password-hash"
    return kind


@lru_cache(maxsize=4096)
def hash_name(name: str) -> bool:
    """Names whose values are content hashes or revisions (``sha256``, ``narHash`` …)."""
    parts = words(name)
    if not parts:
        return False
    last = parts[-1]
    if tuple(parts[-2:]) in _SECRET_DESPITE:
        return False
    return (
        last in {"hash", "sha", "sha1", "sha256", "sha512", "md5", "rev", "revision", "commit"}
        or name in {"sha256", "sha512", "sha1", "md5"}
        or (len(parts) >= 2 and parts[-2] == "sha")
    )


@lru_cache(maxsize=4096)
def public_name(name: str) -> bool:
    parts = words(name)
    if tuple(parts[-2:]) in _SECRET_DESPITE:
        return False
    return any(p in _PUBLICISH for p in parts) or name.lower() in {"device", "devices", "keyid"}


# ---------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------

# Shapes that only placeholders have (anywhere in the value).
_PLACEHOLDER_SHAPES = lazy(
    r"(?<![A-Za-z0-9])[xX]{3,}(?![A-Za-z0-9])|(?-i:x{4,}|X{4,})|"
    # AWS's documented keys (AKIAIOSFODNN7EXAMPLE, …bPxRfiCYEXAMPLEKEY, AKIDEXAMPLE)
    r"(?-i:[A-Z0-9]EXAMPLE)|"
    r"^\*+$|^\.+$|^\*{3}[A-Z_-]+\*{3}$|<[^>]*>|\{\{.*\}\}|\{%.*%\}|@[A-Z][A-Za-z0-9_]*@|…|\.\.\.|"
    r"redacted|^(?:none|null|nil|undefined|true|false|yes|no|secret|"
    r"password|passwd|token|test|foo|bar|baz|abc|1234|12345|123456|unused|unset|empty|read|write|"
    r"value|values|disabled?|enabled?|off|on|generate|required|optional|auto|default|hidden|"
    r"masked|prompt|ask|stdin|keyring|admin|root|deny|allow|invalid|user|guest|pass|pw|"
    # OpenID Connect's claims and scopes (`claims_policies.x.id_token = [ "email" … ]`)
    r"openid|profile|email|email_verified|name|preferred_username|groups|offline_access|"
    r"given_name|family_name|nickname|phone_number|phone_number_verified)$",
    re.IGNORECASE,
)
# A placeholder is made of these words only (``changeme``, ``YOUR_TOKEN_HERE``,
# ``example-password``), and at least one of them says "placeholder"; a value that
# merely starts with one (``example99Secret!``, ``dummy4Lyf``) is a secret.
_MARKER = (
    r"change|changeit|redacted|placeholder|example|todo|fixme|tbd|dummy|your|my|insert|replace|"
    r"here|fake|sample|enter|fill|put|insecure|overridden|overwritten|runtime"
)
_FILLER = (
    r"me|the|a|an|in|to|with|this|goes|value|secrets?|passwords?|passwd|passphrase|tokens?|"
    r"keys?|api|access|auth|client|private|app|some|random|string|test|real|new|set|admin|"
    r"user|db|database|smtp|mail|pass|pw|it|now|later|please|secure|strong|super|very|long|"
    r"own|generated|chosen|actual|good|unique|build|replaced|at|run|time|for|during|startup|"
    r"deploy|by|via|env|environment|file|production|prod|development|dev|staging"
)  # (`build-placeholder-overridden-at-runtime`: a value a build sets, said so)
_PLACEHOLDER_WORD = lazy(rf"^(?:{_MARKER}|{_FILLER})+$")
# The words examples stand in for values with (``foobar``, ``wibble``, ``foo-bar-baz``):
# a value made of nothing else is an example's, under any name.
_METASYNTACTIC = (
    r"foo|bar|baz|qux|quux|corge|grault|garply|waldo|fred|plugh|xyzzy|thud|wibble|"
    r"wobble|wubble|flob|flobble|hoge|fuga|piyo"
)
_STAND_INS = lazy(rf"^(?:{_METASYNTACTIC})(?:[-_. ]?(?:{_METASYNTACTIC}))*$", re.IGNORECASE)
_MARKER_WORD = lazy(rf"(?:{_MARKER})")


def _placeholder_words(text: str) -> bool:
    parts = words(text)
    if not parts or not all(_PLACEHOLDER_WORD.match(p) for p in parts):
        return False
    if sum(c.isalnum() for c in text) != sum(len(p) for p in parts):
        return False  # other characters than separators between the words
    return any(_MARKER_WORD.search(p) for p in parts)


# a name a variable has (DB_PASS, db_pass, dbPass), not a password's run of characters
# after a "$" ($ecr3tP4ss, $ecretPassWord2024)
_VARIABLE = r"(?:[A-Z_][A-Z0-9_]*|[a-z_][a-z0-9_]*|[a-z]+(?:[A-Z][a-z]+)+)(?![A-Za-z0-9])"
_REFERENCE = lazy(
    r"^(?:/run/(?:secrets|agenix|credentials|keys)|/var/run/secrets|\$__file\{|\$__env\{|"
    r"![a-z_]+(?:\.yaml)?(?:\s|$)|ext:|env:|file:|%\{|%env\(|config\.(?:sops|age)\.|"
    r"!/\S+\.ya?ml(?:\s|$)|"  # (zigbee2mqtt: `!/run/x/secrets.yaml key`, a file's key)
    r"\{[A-Z][A-Z0-9_]*\}$|\$\{[A-Za-z_][A-Za-z0-9_]*\}$|\$" + _VARIABLE + "$|"
    r"\$\([^)]*\)$|`[^`]*`$|/nix/store/|\{(?:file|env):[^{}\s]+\}$|"
    r"\{env\}[A-Za-z_][A-Za-z0-9_]*$|"  # (services.webdav's users: `{env}PASSWORD`)
    # a systemd credential's path (LoadCredential: `$CREDENTIALS_DIRECTORY/x`, `%d/x`)
    # and a program's own environment lookup (`$env(ADMIN_PASSWORD)`)
    r"\$\{?CREDENTIALS_DIRECTORY\}?/|%d/[\w.-]+$|\$env\([A-Za-z_][A-Za-z0-9_]*\)$|"
    r"SECRET\[[A-Za-z0-9_.-]+\]$|"  # (Vector's secret backends: `SECRET[agenix.token]`)
    # a program's environment read in its code: process.env.X, os.environ["X"], ENV["X"]
    r"(?:process\.env\.|os\.environ\b|os\.getenv\(|ENV\[)[\w\"'\[\]().]*,?$)"
)
_PATH = lazy(r"^(?:/|~/|\./|\.\./)[^\s:]*$")
# Base64 of a 32- or 64-byte key (WireGuard, ed25519 seeds …): one in 64 starts with
# "/" and must not pass for an absolute path.
_B64_KEY = lazy(r"^(?:[A-Za-z0-9+/]{43}=|[A-Za-z0-9+/]{86}==)$")
# a unit of up to four characters said three times or more: a stand-in, never generated
_REPEATED = lazy(r"^(.{1,4})\1{2,}$", re.DOTALL)
_NIX_BASE32 = lazy(r"^[0-9a-df-np-sv-z]{52}$|^[0-9a-df-np-sv-z]{103}$")
_SRI = lazy(r"^(?:sha1|sha256|sha384|sha512|md5)[-:][A-Za-z0-9+/=]{16,}$")
# a GPG key's id or fingerprint as git's user.signingKey names it: 16 or 40 hex digits
# (0x first, or in groups of four), upper case as gpg prints them
_GPG_KEY_ID = lazy(r"^(?:0x)?(?:[0-9A-F]{16}|[0-9A-F]{40})$|^(?:[0-9A-F]{4} ?){10}$")
_SSH_PUBLIC = lazy(  # (git's `user.signingKey = "key::ssh-ed25519 AAAA…"` too)
    r"(?:^|\s|key::)(?:ssh-(?:ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-ssh-ed25519@openssh\.com|"
    r"sk-ecdsa-sha2-nistp256@openssh\.com)\s+AAAA"
)
_AGE_RECIPIENT = lazy(r"^age1[02-9ac-hj-np-z]{20,}$")
_SYNCTHING_DEVICE = lazy(r"^[A-Z2-7]{7}(?:-[A-Z2-7]{7}){7}$")
_SOPS_ENC = lazy(r"^ENC\[AES256_GCM,")
# Cirrus CI's encrypted variable: `ENCRYPTED[!<hex>!]` (or without the "!"s), which only
# Cirrus decrypts, for the repository it was made for
_CIRRUS_ENCRYPTED = lazy(r"^ENCRYPTED\[!?[0-9a-fA-F]{16,}!?\]$")
_ARMOR_PUBLIC = lazy(
    r"-----BEGIN (?:AGE ENCRYPTED FILE|PGP PUBLIC KEY BLOCK|PUBLIC KEY|"
    r"PGP MESSAGE|CERTIFICATE|SSH2 PUBLIC KEY|RSA PUBLIC KEY)-----"
)
_PW_HASH = lazy(
    r"^(?:[A-Za-z0-9_.@-]+:)?"  # an htpasswd line's user: `user:$2y$…` (basic-auth lists)
    r"(?:\$(?:2[abxy]?|1|5|6|y|gy|7|sha1|md5|apr1)\$[./A-Za-z0-9$=,+-]{8,}$|\$argon2(?:id|i|d)\$"
    r"|\$(?:pbkdf2(?:-sha(?:1|256|512))?|scrypt|yescrypt|bcrypt(?:-sha256)?)\$[./A-Za-z0-9$=,+-]{8,}$"
    r"|\{(?:SSHA|SHA|SSHA256|SSHA512|CRYPT|PBKDF2[-A-Z0-9]*|ARGON2)\})"
)
# a minisign public key (dnscrypt's resolver lists: `minisign_key = "RWQf…"`): "Ed",
# the key id and 32 bytes in base64, 56 characters (a secret key is far longer)
_MINISIGN_PUBLIC = lazy(r"^RW[A-Za-z0-9+/]{54}$")
_NIX_PUBLIC_CACHE_KEY = lazy(r"^[A-Za-z0-9._-]+(?:-\d+)?:[A-Za-z0-9+/]{43}=$")
_DURATION = lazy(
    r"^\d+\s*(?:ms|s|m|h|d|w|y|sec|secs|seconds?|min|mins|minutes?|hours?|days?|weeks?|"
    r"months?|years?)$",
    re.IGNORECASE,
)
_PLAIN_URL = lazy(r"^[a-z][a-z0-9+.-]*://[^\s@'\"]+$")
_URL_PARTS = lazy(r"[/?&=#:.]")
_NAME_PARTS = lazy(r"[-_./:]")
_IP = lazy(
    r"^(?:\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:/\d{1,3})?)$"
)
# (a package manager's range too: yarn.lock's `jsonwebtoken: "npm:^9.0.0"`, an alias's
# `"npm:string-width@^4.2.0"`, `"workspace:^1.0.0"`)
_VERSION = lazy(
    r"^(?:(?:npm|workspace):(?:(?:@[\w.-]+/)?[\w.-]+@)?)?"
    r"[~^>=<v]*\d+\.\d+(?:\.\d+)?(?:[-+][0-9A-Za-z.-]+)?$"
)
_MARKED = lazy(r"^([#@%]|__)[A-Za-z0-9_.-]+\1$")
_NSSWITCH = lazy(
    r"^(?:files|compat|systemd|dns|ldap|sss|nis|winbind|mymachines|myhostname|resolve)"
    r"(?:\s+(?:\[[^\]]*\]|[a-z]+))*$"
)
_WORD_LIST = lazy(r"^[a-z]+(?:\s*,\s*[a-z]+)+$")
# Text a program shows, with its colour codes or argument slots: a Minecraft plugin's
# messages ("&cWrong password.", "&aYour token: &6{0}") under names like
# ``wrong-password``.  Only with whitespace: a one-word value is never taken for prose.
_MESSAGE_MARKS = lazy(r"(?:^|\s)[&\u00a7][0-9a-fk-or]\S|\{[0-9]\}")
_IDENTIFIER = lazy(r"^[A-Za-z0-9]+(?:[._/-][A-Za-z0-9]+)+$")
# capitals only, ending in what it stands for (no digit: a generated value has some)
_CAPITAL_NAME = lazy(r"^[A-Z][A-Z_]*(?:PASS(?:WORD|PHRASE)?|PASSWD|TOKEN|SECRET|KEY|PSK)$")
_NAME_WORDS = frozenset(
    {"password", "passwd", "passphrase", "token", "secret", "key", "apikey"}
    | {"credentials", "credential", "psk", "privkey"}
)
# ${…}, $(…), %(name)s, and a $NAME (:data:`_VARIABLE`) that does not follow a letter
# or digit: "G$f9kL", "w1$Lq", "$ecr3tP4ss" are a password's own characters (Nix
# expands only ${…}; a shell would expand $f9kL, but nobody names a variable so)
_ANY_INTERPOLATION = lazy(
    r"\$\{[^{}]*\}|(?<![A-Za-z0-9])\$" + _VARIABLE + r"|\$\([^)]*\)|%\([^)]*\)[sd]"
)
_NAME_ONLY = frozenset(
    {
        *_NAME_WORDS,
        "passphrase",
        "api",
        "user",
        "private",
        "secret",
        "auth",
        "raw",
        "client",
        "preshared",
        "network",
        "access",
        "bot",
        "admin",
        "hashed",
        "initial",
    }
)
_PURE_INTERPOLATION = lazy(r"^\$\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}$")


# What a key derivation's parameters hold (OpenTofu's encrypted state keeps its pbkdf2
# key provider's under meta."key_provider.pbkdf2.<name>": salt, iterations, hash, length)
_KDF_FIELDS = frozenset(
    {"salt", "iterations", "hash_function", "key_length", "n", "r", "p", "memory", "time"}
)


def _kdf_parameters(text: str) -> bool:
    """Whether ``text`` is base64 of a JSON object of only a key derivation's public
    parameters (a salt among them): no secret, whatever name holds it."""
    import base64
    import binascii
    import json

    if len(text) > 1024:
        return False
    try:
        fields = json.loads(base64.b64decode(text + "=" * (-len(text) % 4), validate=True))
    except (binascii.Error, ValueError):
        return False
    return isinstance(fields, dict) and "salt" in fields and set(fields) <= _KDF_FIELDS


def password_hash(value: str) -> bool:
    return bool(_PW_HASH.match(value))


_TOKEN_PLACEHOLDER = lazy(
    r"example|(?-i:x{5,}|X{5,})|<[^>]*>|redacted|change[-_]?me|…|\.\.\.|abcdefghij|0123456789|"
    r"^\*{3}[A-Z_-]+\*{3}$",
    re.IGNORECASE,
)


# Kinds of secret whose value is never a secret's name: a WPA passphrase made of words
# that include "password" is the passphrase (a name there would be "@PSK_HOME@" or
# "ext:psk_home", both caught as placeholder and reference before the name rule).  Only
# a label that ends in such a word, without digits, stands for one there ("home-password"
# in a commented example).
VALUE_ONLY_KINDS = frozenset({"psk"})


# Kinds of secret whose value may be hex of a digest's length (``openssl rand -hex 16``
# for a password, a 64-hex preshared key): under other names such hex is a hash, a
# revision or a key's fingerprint (:func:`hashlike`).
HEX_SECRET_KINDS = frozenset(
    {
        "secret",
        "psk",
        "preshared-key",
        "secret-key",
        "private-key",
        "token",
        "api-key",
        "password",
        "passphrase",
        "credentials",
        "auth-key",
        "access-key",
        "network-key",
    }
)


def not_secret(value: str, *, token: bool = False, kind: str | None = None) -> str | None:
    """Why ``value`` is certainly not a hardcoded secret, or None.

    ``token``: the value matched a token format, so only structural reasons count
    (ciphertext, references, public keys …) and obvious placeholders; the word
    heuristics for free-form values are skipped.  ``kind``: the kind of secret its
    name says it is (:func:`secret_name`); one of :data:`VALUE_ONLY_KINDS` is never
    taken for the name of a secret."""
    text = value.strip()
    if len(text) < 3:
        return "too short"
    if _SOPS_ENC.match(text) or ("sops:" in text and "ENC[" in text):
        return "sops ciphertext"
    if _CIRRUS_ENCRYPTED.match(text):
        return "CI ciphertext"
    if _ARMOR_PUBLIC.search(text):
        return "armored public data or ciphertext"
    if _PURE_INTERPOLATION.match(text):
        return "interpolation"
    if text.startswith("eyJ") and _kdf_parameters(text):
        return "key derivation parameters"
    if text.startswith("$("):
        # a shell's command substitution, whole or cut at a quote inside it
        # (`X="$(tool --password "$Y" | …)"` read as `$(tool --password `): run-time output
        return "interpolation"
    if "$" in text or "%(" in text:
        rest = _ANY_INTERPOLATION.sub("", text)
        if sum(c.isalnum() for c in rest) < 3:
            return "interpolation"
        if _placeholder_words(rest):
            return "placeholder"  # "$argon2id:TODO": what is not made at run time says so
    if _REFERENCE.match(text):
        return "reference"
    if _SSH_PUBLIC.search(text):
        return "ssh public key"
    if _AGE_RECIPIENT.match(text):
        return "age recipient"
    if _SRI.match(text) or _NIX_BASE32.match(text):
        return "hash"
    if _SYNCTHING_DEVICE.match(text):
        return "syncthing device id"
    if _NIX_PUBLIC_CACHE_KEY.match(text):
        return "binary cache public key"
    if _MINISIGN_PUBLIC.match(text):
        return "minisign public key"
    if _PATH.match(text) and not _B64_KEY.match(text) and not generated_slashes(text):
        return "path"
    if token:
        return "placeholder" if _TOKEN_PLACEHOLDER.search(text) else None
    if kind == "private-key" and _GPG_KEY_ID.match(text):
        return "gpg key id"  # (git's user.signingKey: a key's id or fingerprint, no key)
    if _PLACEHOLDER_SHAPES.search(text) or _placeholder_words(text) or _STAND_INS.match(text):
        return "placeholder"
    if example_text(text):
        return "placeholder"
    if len(set(text)) == 1 or _REPEATED.match(text) or len(set(text) - {"-"}) == 1:
        return "placeholder"  # xxxxxxxx, keykeykey, abcabcabc, 00000000-0000-…-000000000000
    if _DURATION.match(text):
        return "duration"
    if _PLAIN_URL.match(text) and not any(
        len(part) >= 16 and random_looking(part) for part in _URL_PARTS.split(text)
    ):
        return "url"  # an address (credentials in it are the url-credentials rule's)
    if _IP.match(text):
        return "ip address"
    if _VERSION.match(text):
        return "version"
    if _MARKED.match(text):
        return "placeholder"
    if _NSSWITCH.match(text):
        return "nsswitch sources"
    if _WORD_LIST.match(text):
        return "word list"
    if _MESSAGE_MARKS.search(text) and any(c.isspace() for c in text):
        return "message text"
    if kind in VALUE_ONLY_KINDS:
        named = words(text)
        if named and named[-1] in _NAME_WORDS and not any(c.isdigit() for c in text):
            return "placeholder"
        return None
    if (
        _IDENTIFIER.match(text)
        and any(w in _NAME_WORDS for w in words(text))
        and not _generated_part(text)
    ):
        return "the name of a secret"
    if all(w in _NAME_ONLY for w in words(text)) and not any(c.isdigit() for c in text):
        return "the name of a secret"
    if _CAPITAL_NAME.match(text):
        return "the name of a secret"  # ADGUARDPASS, GHTOKEN: a stand-in written as a name
    return None


# zigbee2mqtt's documented example network key: a stand-in, not a secret
_EXAMPLE_KEY = (1, 3, 5, 7, 9, 11, 13, 15, 0, 2, 4, 6, 8, 10, 12, 13)


def key_bytes(values: tuple[int, ...]) -> bool:
    """Whether ``values`` (a list of 8 to 64 numbers under a secret's name) can be a key
    written as bytes: each 0–255, not all alike, not the documented example."""
    return (
        8 <= len(values) <= 64
        and max(values) <= 255
        and len(set(values)) >= 4
        and values != _EXAMPLE_KEY
    )


_COMMAND_WORDS = ("command", "cmd", "eval")
_COMMAND_OF = frozenset({"pass", "password", "passwd", "token", "secret", "key", "auth"})


@lru_cache(maxsize=4096)
def command_name(name: str) -> bool:
    """A name for a command a program runs: ``passwordCommand``, ``ExecStart``-like
    ``*_cmd``, and the one-word ``passcmd``, ``tokencmd`` and msmtp's ``passwordeval``."""
    parts = words(name)
    if not parts:
        return False
    last = parts[-1]
    if last in _COMMAND_WORDS:
        return True
    suffix = next((w for w in _COMMAND_WORDS if last.endswith(w)), None)
    return suffix is not None and last[: -len(suffix)] in _COMMAND_OF


def _generated_part(text: str) -> bool:
    """A name holds no generated part: ``Secret-Garden-2024`` (digits and both cases)
    and ``key-28f2…`` (a random run, Mailgun's keys) are values, ``db-password-2`` a
    name."""
    cases = any(c.isupper() for c in text) and any(c.islower() for c in text)
    return (cases and any(c.isdigit() for c in text)) or any(
        len(part) >= 12 and any(c.isdigit() for c in part) and any(c.isalpha() for c in part)
        for part in _NAME_PARTS.split(text)
    )
