"""Passwords that command-line clients take as arguments, for
:class:`secretkit.scan.command_detectors.CommandSecret`: the options whose names say
nothing to the generic flag rule (``-p``, ``-a``, ``-k``, a positional argument), so
each is read only after the client's own name: the MySQL/MariaDB clients'
``-pPASSWORD``, ``docker login -p``, ``redis-cli -a``, ``htpasswd -b file user
PASSWORD``, OpenSSL's ``-k PASSWORD`` and ``pass:PASSWORD``, 7-Zip's ``-pPASSWORD``.

Each pattern is tried only where it can start (:data:`STARTS`, held to plain
``finditer`` by ``tests/scan/test_scan_match_starts.py``), and only in a text that
holds the client's name (a substring test first).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from secretkit.lazy_re import lazy
from secretkit.scan.match_starts import contains, finditer_named, word_starts

# A value: quoted (any character but the quote and a line break) or bare.
_VALUE = r"(?:'([^'\n]+)'|\"([^\"\n]+)\"|([^\s'\";|&)]+))"

# The MySQL/MariaDB clients' -pPASSWORD, -p'PASSWORD' (attached: "-p VALUE" asks,
# VALUE is the database)
_MYSQL = lazy(r"\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)\b[^\n;|&]*?\s-p" + _VALUE)
# `docker login -p PASSWORD` (podman's, buildah's and skopeo's too; global options may
# stand before `login`; --password is the flag rule's, --password-stdin reads stdin)
_LOGIN = lazy(
    r"\b(?:docker|podman|buildah|skopeo)(?:[ \t]+--?[\w.-]+(?:=\S+)?)*[ \t]+login\b"
    r"[^\n;|&]*?\s-p(?:=|[ \t]*)" + _VALUE
)
# `redis-cli -a PASSWORD` (also valkey-cli)
_REDIS = lazy(r"\b(?:redis|valkey)-cli\b[^\n;|&]*?\s-a[ \t]*" + _VALUE)
# `htpasswd -b[c…] FILE USER PASSWORD`, `htpasswd -nb USER PASSWORD`: the password is
# the last argument of the batch mode (-b); with -n there is no file
_HTPASSWD = lazy(
    r"\bhtpasswd(?P<opts>(?:[ \t]+-[A-Za-z]+)+)"
    r"(?:[ \t]+(?P<file>[^\s'\";|&)-][^\s;|&)]*))?[ \t]+(?P<user>[^\s'\";|&)-][^\s;|&)]*)[ \t]+"
    + _VALUE
)
# OpenSSL's `-k PASSWORD` (enc's password; -K is a hex key and -kfile a file)
_OPENSSL_K = lazy(r"\bopenssl\b[^\n;|&]*?\s-k[ \t]+" + _VALUE)
# OpenSSL's pass phrase arguments: `-pass pass:PASSWORD` (also -passin, -passout);
# env:, file:, fd: and stdin name where the password is read from
_PASS_ARG = lazy(
    r"\s-(?:pass|passin|passout|password)[ \t]+(?:'pass:([^'\n]+)'|\"pass:([^\"\n]+)\""
    r"|pass:([^\s'\";|&)]+))"
)
# 7-Zip's -pPASSWORD (7z, 7za, 7zr, 7zz; "-p" alone asks)
_SEVEN_ZIP = lazy(r"(?<![\w.-])7z[arz]?\b[^\n;|&]*?\s-p" + _VALUE)


# OpenLDAP's clients' -w PASSWORD (the bind password; -W asks, -y reads a file)
_LDAP = lazy(
    r"\bldap(?:search|add|modify|delete|whoami|passwd|compare|modrdn|exop)\b[^\n;|&]*?"
    r"\s-w[ \t]*" + _VALUE
)
# Mosquitto's clients' -P PASSWORD (mosquitto_pub, _sub, _rr)
_MOSQUITTO = lazy(r"\bmosquitto_(?:pub|sub|rr)\b[^\n;|&]*?\s-P[ \t]+" + _VALUE)
# Microsoft's sqlcmd and bcp: -P PASSWORD
_SQLCMD = lazy(r"\b(?:sqlcmd|bcp)\b[^\n;|&]*?\s-P[ \t]*" + _VALUE)
# zip's and unzip's -P PASSWORD (the archive's password)
_ZIP = lazy(r"(?<![\w.-])(?:un)?zip\b[^\n;|&]*?\s-P[ \t]+" + _VALUE)
# lftp's -u USER,PASSWORD (no comma, or nothing after it: lftp asks)
_LFTP = lazy(
    r"\blftp\b[^\n;|&]*?\s-u[ \t]+(?:'[^',\n]*,([^'\n]+)'|\"[^\",\n]*,([^\"\n]+)\""
    r"|[^\s,'\";|&)]*,([^\s'\";|&)]+))"
)
# NetworkManager's nmcli: `dev wifi connect SSID … password PASSWORD`, and the Wi-Fi
# PSK given to `connection add|modify` (wifi-sec.psk, or its long name).  The command's
# own words are required (global options, the object, the verb): prose that names
# nmcli and a password is no command
_NMCLI = lazy(
    r"\bnmcli(?:[ \t]+-[\w-]+(?:[ \t]+\d+)?)*[ \t]+"
    r"(?:(?:d|dev|device)[ \t]+wifi[ \t]+(?:c|con|connect)[ \t][^\n;|&#()]*?[ \t]password"
    r"|(?:c|con|connection)[ \t]+(?:a|add|m|mod|modify)[ \t][^\n;|&#()]*?[ \t]"
    r"(?:wifi-sec|802-11-wireless-security)\.psk)[ \t]+" + _VALUE
)


# sed's s/<placeholder>/<value>/ (also with | or #): a script writing a secret into a
# config in place of a placeholder its name says is one (@DB_PASSWORD@, __TOKEN__)
_SED = lazy(
    r"\bsed\b[^\n;&]*?[\s'\"]s(?:/([^/\n]+)/([^/\n]*)/|\|([^|\n]+)\|([^|\n]*)\||"
    r"#([^#\n]+)#([^#\n]*)#)"
)
_LEADING_NAME = lazy(r"[A-Za-z_][\w.-]*[ \t]*[=:][ \t]*")


# " -" (any space, as \s reads it): led by the "-", so that re scans for the literal and
# looks back only at each "-" (led by \s, every position of a text without one was
# tried: a tenth of a history scan went to this one test)
_OPTION = lazy(r"-(?<=\s-)")


def _starts(*words: str) -> Callable[[str], Iterable[int] | None]:
    return lambda text: word_starts(text, words)


# pattern → where its matches can start (the client's name; " -" before -pass)
STARTS: dict[str, tuple[re.Pattern[str], Callable[[str], Iterable[int] | None]]] = {
    "mysql": (_MYSQL, _starts("mysql", "mariadb")),
    "registry-login": (_LOGIN, _starts("docker", "podman", "buildah", "skopeo")),
    "redis-cli": (_REDIS, _starts("redis-cli", "valkey-cli")),
    "htpasswd": (_HTPASSWD, _starts("htpasswd")),
    "openssl-k": (_OPENSSL_K, _starts("openssl")),
    # (the match starts at the space before "-pass")
    "pass-arg": (_PASS_ARG, lambda text: [max(0, i - 1) for i in word_starts(text, ("-pass",))]),
    "7z": (_SEVEN_ZIP, _starts("7z")),
    "ldap": (_LDAP, _starts("ldap")),
    "mosquitto": (_MOSQUITTO, _starts("mosquitto_")),
    "sqlcmd": (_SQLCMD, _starts("sqlcmd", "bcp")),
    "zip": (_ZIP, _starts("zip", "unzip")),
    "lftp": (_LFTP, _starts("lftp")),
    "nmcli": (_NMCLI, _starts("nmcli")),
    "sed": (_SED, _starts("sed")),
}


def _matches(name: str, text: str) -> Iterator[re.Match[str]]:
    return finditer_named(STARTS, name, text)


def _value(m: re.Match[str], first: int) -> tuple[int, int]:
    """The span of the first of the three value groups from ``first`` that matched."""
    index = next(i for i in (first, first + 1, first + 2) if m.group(i) is not None)
    return m.start(index), m.end(index)


def client_passwords(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, "password")`` of each password ``text`` gives a client."""
    spans: list[tuple[int, int]] = []
    if contains(text, "nmcli"):  # (its password follows a word, not an option)
        spans.extend(_value(m, 1) for m in _matches("nmcli", text))
    if contains(text, "sed"):  # (its expression follows a quote or a space)
        spans.extend(_sed_values(text))
    if _OPTION.search(text) is None:
        # (every other pattern gives the password after an option: " -p", " -a" …)
        return [(start, end, "password") for start, end in spans]
    if contains(text, "mysql") or contains(text, "mariadb"):
        spans.extend(_value(m, 1) for m in _matches("mysql", text))
    if contains(text, "login") and (
        contains(text, "docker") or contains(text, "podman") or contains(text, "buildah")
        or contains(text, "skopeo")
    ):  # fmt: skip
        spans.extend(_value(m, 1) for m in _matches("registry-login", text))
    if contains(text, "-cli") and (contains(text, "redis") or contains(text, "valkey")):
        spans.extend(_value(m, 1) for m in _matches("redis-cli", text))
    if contains(text, "htpasswd"):
        for m in _matches("htpasswd", text):
            opts = m.group("opts")
            # batch mode only; -n prints (no file), otherwise the file comes first
            if "b" in opts and ("n" in opts) == (m.group("file") is None):
                spans.append(_value(m, 4))
    if contains(text, "openssl") and contains(text, "-k"):
        spans.extend(_value(m, 1) for m in _matches("openssl-k", text))
    if contains(text, "pass:") and contains(text, "-pass"):
        spans.extend(_value(m, 1) for m in _matches("pass-arg", text))
    if contains(text, "7z"):
        spans.extend(_value(m, 1) for m in _matches("7z", text))
    if contains(text, "ldap") and contains(text, "-w"):
        spans.extend(_value(m, 1) for m in _matches("ldap", text))
    if contains(text, "mosquitto_"):
        spans.extend(_value(m, 1) for m in _matches("mosquitto", text))
    if contains(text, "-P") and (contains(text, "sqlcmd") or contains(text, "bcp")):
        spans.extend(_value(m, 1) for m in _matches("sqlcmd", text))
    if contains(text, "-P") and contains(text, "zip"):
        spans.extend(_value(m, 1) for m in _matches("zip", text))
    if contains(text, "lftp"):
        spans.extend(_value(m, 1) for m in _matches("lftp", text))
    return [(start, end, "password") for start, end in spans]


def _sed_values(text: str) -> list[tuple[int, int]]:
    """The replacement of each ``s/<placeholder>/<value>/`` whose placeholder names a
    secret (``NAME=…`` before the value, as the line it rewrites has, left out)."""
    from secretkit.scan.filters import secret_name, words

    spans = []
    for m in _matches("sed", text):
        index = next(i for i in (1, 3, 5) if m.group(i) is not None)
        placeholder = re.sub(r"[^A-Za-z0-9]+", "_", m.group(index)).strip("_")
        if not placeholder or secret_name(placeholder) is None or not words(placeholder):
            continue
        start, end = m.start(index + 1), m.end(index + 1)
        lead = _LEADING_NAME.match(text, start, end)
        spans.append((lead.end() if lead is not None else start, end))
    return spans
