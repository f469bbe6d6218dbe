"""The two detectors of secrets inside commands: :class:`CommandSecret` (flags,
``echo … >``, here-documents, SQL, netrc, ``FOO_TOKEN=…`` assignments and fish's
``set -gx FOO_TOKEN …``, curl's and other clients' passwords, see also
:mod:`~secretkit.scan.client_passwords` and :mod:`~secretkit.scan.request_secrets`)
and :class:`UrlCredentials` (``scheme://user:password@host``), with their patterns and
where each pattern's matches can start (:data:`STARTS`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from secretkit.lazy_re import lazy
from secretkit.scan import (
    client_passwords,
    connection_strings,
    filters,
    named_values,
    request_secrets,
)
from secretkit.scan.detector_types import Context, Match
from secretkit.scan.echoed import substituted
from secretkit.scan.match_starts import (
    contains,
    env_assign_starts,
    finditer_named,
    folded,
    lines_with,
    matches_at,
    may_hold,
    may_match,
    url_starts,
    word_starts,
)
from secretkit.scan.value_shapes import mixed_generated, random_looking

_FLAG_SECRET = lazy(
    # (a flag may be namespaced: --db-pass, --auth.password, --web.auth-token)
    r"-(?<![^\s'\"=\[]-)-?(?:[A-Za-z0-9]+[.-])*?(?P<flag>auth-?key|password|passwd|pass|passphrase|token|auth-token|"
    r"api-?key|secret|client-secret|psk|pre-?shared-?key|"
    # storage tools' keys: rclone --s3-secret-access-key, --b2-key; mc/minio --secret-key
    r"secret-?(?:access-?)?key|private-?key|account-?key|b2-?key|master-?key|encryption-?key)"
    r"(?:=|\s+)"
    r"(?:'([^'\n]+)'|\"([^\"\n]+)\"|([^\s'\";|&)]+))",
    re.IGNORECASE,
)
# Every flag name above holds one of these (in any case, as re.IGNORECASE reads it).
_FLAG_WORDS = ("pass", "token", "secret", "key", "psk", "auth")
# echo/printf of one literal (quoted: any phrase, spaces and punctuation included);
# printf's format argument is skipped.  What follows on the line decides whether
# the literal feeds a secret (see _SINK) outside a *Command option.
_ECHO = lazy(
    r"\b(?:echo(?:\s+-[neE]+)*|printf(?:\s+--)?(?:\s+(?:'[^'\n]*%[^'\n]*'|\"[^\"\n]*%[^\"\n]*\"))?)"
    r"\s+(?:'([^'\n]+)'|\"((?:[^\"\\\n]|\\.)+)\"|([^\s'\";|&)<>]+))"
    r"(?:[ \t]+(?:'\1'|\"\2\"|\3))?"  # (twice, as a password prompt asks: smbpasswd -s)
    r"(?=[ \t]*(?:$|[;|&)>]))",
    re.MULTILINE,
)


# a flag naming a command that prints a secret, given one that prints a literal:
# `--password-command "echo …"`, `--passcommand='printf %s …'`
_FLAG_ECHO = lazy(
    r"(?:^|\s)--?(?P<flag>[A-Za-z][\w-]*(?:command|cmd|eval))(?:=|[ \t]+)(?P<q>['\"])[ \t]*"
    r"(?:echo(?:[ \t]+-[neE]+)*|printf(?:[ \t]+(?:%s|'%s'|\"%s\"))?)[ \t]+"
    r"(?:'([^'\n\\]+)'|\"([^\"\n\\$`]+)\"|([^\s'\"`$;|&()<>\\]+))[ \t]*(?P=q)"
)


def _escapes(command: str) -> bool:
    """Whether the echo or printf ``command`` reads ``\\n`` as a line break: printf,
    and echo given ``-e``."""
    parts = command.split()
    if parts[0] == "printf":
        return True
    for part in parts[1:]:  # (echo's flags, up to the literal)
        if not (part.startswith("-") and part[1:].isalpha()):
            return False
        if "e" in part:
            return True
    return False


# A here-document: ``cat <<EOF`` (or ``cat > FILE <<'EOF'``) … ``EOF``.
_HEREDOC = lazy(
    r"\bcat\b(?P<head>[^\n<]*)<<-?[ \t]*(?P<q>['\"]?)(?P<tag>[A-Za-z_][A-Za-z0-9_]*)(?P=q)"
    r"(?P<tail>[^\n]*)\n(?P<body>(?:.*\n)*?)[ \t]*(?P=tag)[ \t]*$",
    re.MULTILINE,
)
# Where a literal goes that makes it a secret: a file or command named for one,
# or a tool reading its password on stdin.
_SINK_WORDS = frozenset(
    {
        "pass", "password", "passwd", "passphrase", "token", "secret", "secrets", "key",
        "cred", "creds", "credentials", "psk", "chpasswd", "cryptsetup", "stdin", "auth",
        "mkpasswd",  # (echo … | mkpasswd -s: the password it hashes)
        "smbpasswd", "pdbedit", "htpasswd",  # (Samba's and Apache's, given it on stdin)
    }
)  # fmt: skip
_SINK_START = lazy(r"^[ \t]*(?:>>?|\||&&)")
_GROUP_PIPED = lazy(r"^[^\n|()]*\)[ \t]*\|")
# (not the end of a command's name: `systemd-ask-password "<its prompt>"`)
# (a quote inside is written twice: 'it''s' — kept as written, which is what the
# statement needs back in its place)
_SQL_PASSWORD = lazy(
    r"(?<!\w-)\b(?:PASSWORD|IDENTIFIED\s+BY)\s+(?:'((?:[^']|'')+)'|\"((?:[^\"]|\"\")+)\")",
    re.IGNORECASE,
)
_SQL_WORDS = ("password", "identified")  # where _SQL_PASSWORD can start, lower-cased
# A netrc entry (``~/.netrc``, nix's ``netrc-file``).
_NETRC = lazy(r"\bmachine\s+\S+(?:\s+login\s+\S+)?\s+password\s+([^\s'\"]+)")
_ENV_WORDS = ("PASS", "TOKEN", "SECRET", "KEY", "PSK", "CRED", "AUTH", "PRIV")
# (after a space, ";", a quote or "=": `"API_TOKEN=…"`, systemd's `Environment=API_TOKEN=…`,
# docker's `--env=API_TOKEN=…`)
_ENV_ASSIGN = lazy(r"(?<![^\s;\"'=])([A-Z_][A-Z0-9_]*)=(?:'([^']*)'|\"([^\"]*)\"|([^\s'\";|&]+))")
_ESCAPES = ("\\n", "\\r", "\\t")  # an escaped line end or tab ending a string's line
# fish's `set -gx API_TOKEN value` (-x, -Ux, --global --export …): an assignment the
# variable's name judges as _ENV_ASSIGN's; without an option only an upper-case name
_FISH_SET = lazy(
    r"\bset(?P<opts>(?:[ \t]+--?[A-Za-z][A-Za-z-]*)*)[ \t]+(?P<name>[A-Za-z_][A-Za-z0-9_]*)[ \t]+"
    r"(?:'([^'\n]*)'|\"([^\"\n]*)\"|([^\s'\";|&)]+))"
)
# options of `set` that do not assign (erase, query, list names, show)
_FISH_NOT_ASSIGN = lazy(r"[ \t](?:-[A-Za-z]*[eqnS]|--(?:erase|query|names|show))\b")
# (the user may be empty: ``redis://:PASSWORD@host``, as Redis before ACLs has no users)
_URL_CREDS = lazy(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/?#@'\"]*:([^\s@/?#'\"]+)@[^\s/?#'\"]")
# What follows the scheme in a _URL_CREDS match (led by a literal, so re finds it fast):
# a text without it has no credentials in a URL, however many URLs it holds.
_URL_TAIL = lazy(r"://[^\s:/?#@'\"]*:[^\s@/?#'\"]+@[^\s/?#'\"]")
# curl's basic auth on the same command line: ``curl -u user:password`` (``-uuser:pw``,
# ``--user user:password``, quoted or not); the password is what follows the first ":".
_CURL_USER = lazy(
    r"\bcurl\b[^\n;|&]*?\s(?:-u|--user(?![\w-]))[ \t]*"
    r"(?:'[^':\n]*:([^'\n]+)'|\"[^\":\n]*:([^\"\n]+)\"|[^\s'\":;|&]*:([^\s'\";|&)]+))"
)

# smbclient -U user%password (also --user=user%password)
_SMB_USER = lazy(
    r"\bsmbclient\b[^\n;|&]*?\s(?:-U|--user)(?:=|[ \t]+)?['\"]?[^\s%'\"]+%([^\s'\";|&)]+)"
)
# Caddy's DNS challenge with the provider's token on the line (a Caddyfile's
# `acme_dns cloudflare <token>`, a site's `tls { dns cloudflare <token> }`): the
# providers whose one argument is the token ({env.X}, {$X} are placeholders)
_CADDY_DNS = lazy(
    r"(?<![\w.-])(?:acme_dns|dns)[ \t]+(?:cloudflare|duckdns|digitalocean|hetzner|desec|"
    r"linode|vultr|netlify|dnsimple|gandi|njalla|dynv6|ionos|bunny|hosttech|inwx|porkbun)"
    r"[ \t]+([A-Za-z0-9_.:-]{16,})(?=[ \t]*(?:$|[}\n#]))",
    re.MULTILINE,
)
# mount's options: -o username=…,password=… (CIFS, davfs)
_MOUNT_PASSWORD = lazy(r"\s-o[ \t]*['\"]?(?:[^\s,'\"]+,)*?(?:password|pass)=([^,\s'\";|&)]+)")
# BIND's TSIG key statement: `key "ddns" { algorithm hmac-sha256; secret "<base64>"; };`
_STATEMENT_SECRET = lazy(r'(?<![\w.-])secret[ \t]+"([^"\n]+)"[ \t]*;')
# A here-string into a command that reads a password on stdin:
# `openconnect --passwd-on-stdin <<< 'value'` (the sink is the command before it)
_HERE_STRING = lazy(r"<<<[ \t]*(?:'([^'\n]+)'|\"([^\"\n$`]+)\")")
_COMMAND_START = lazy(r"[\n;|&]")
# WeeChat's `/set <option> <value>` of an option named for a secret
_WEECHAT_SET = lazy(
    r"/set[ \t]+[\w.]*(?:password|passwd|pass|secret|token)[ \t]+(?:\"([^\"\n]+)\"|([^\s\"]+))"
)
# sshpass -p PASSWORD ssh …: the password is given on the command line
_SSHPASS = lazy(r"\bsshpass[ \t]+-p[ \t]*(?:'([^'\n]+)'|\"((?:[^\"\\\n]|\\.)+)\"|([^\s'\";|&)]+))")
# The AWS CLI's and rclone's configuration commands: `aws configure set
# aws_secret_access_key <value>`, `rclone config create <name> s3 secret_access_key <value>`
_VALUE = r"[ \t=]+(?:'([^'\n]+)'|\"([^\"\n]+)\"|([^\s'\";|&)]+))"
_AWS_SET = lazy(
    r"\baws[ \t]+configure[ \t]+set[ \t]+(?:[\w-]+\.)?(?:aws_secret_access_key|aws_session_token)"
    + _VALUE
)
_RCLONE_SET = lazy(
    r"\brclone[ \t]+config[ \t]+(?:create|update)\b[^\n]*?[ \t]"
    r"(?:secret_access_key|account_key|client_secret|key|pass|password|token)" + _VALUE
)


# A "keyword value" config line of one word: msmtp's `password <value>`, mbsync's
# `Pass <value>` (not PAM's `password required pam_unix.so`, nor the password store's
# `pass <entry>` command: lower-case `pass` is not a keyword here)
_KEYWORD_PASSWORD = lazy(
    # `password x`, and with the option's own prefix (mosquitto's `remote_password x`),
    # keepalived's `auth_pass x` (not nginx's `fastcgi_pass`, `proxy_pass`: an upstream);
    # not `passwd alice`, the command (its argument is a user; it asks for the password)
    r"^[ \t]*(?:[Pp]assword|PASSWORD|Passwd|Pass|(?:[a-z][a-z0-9]*_)+password|auth_pass)[ \t]+"
    r"(?!(?:required|requisite|sufficient|optional|include|substack)\b)"
    # (a PL/pgSQL declaration, `password TEXT;`, names the variable's type)
    r"(?!(?i:text|varchar|char|character|integer|int|bigint|bytea|boolean|uuid)(?:\(\d+\))?;)"
    r"([^\s#'\"]+)[ \t]*$",
    re.MULTILINE,
)


def _keyword_starts(text: str) -> Iterable[int] | None:
    lines = lines_with(text, ("pass",))
    return None if lines is None else [start for start, _end in lines]


def _sql_starts(text: str) -> Iterable[int] | None:
    lowered = folded(text)
    return None if lowered is None else word_starts(lowered, _SQL_WORDS)


# The patterns above that re cannot scan for quickly (no literal prefix), each with
# where its matches can start (None: anywhere); tests/scan/test_scan_match_starts.py
# holds every pair to plain finditer.
STARTS: dict[str, tuple[re.Pattern[str], Callable[[str], Iterable[int] | None]]] = {
    "echo": (_ECHO, lambda text: word_starts(text, ("echo", "printf"))),
    "heredoc": (_HEREDOC, lambda text: word_starts(text, ("cat",))),
    "netrc": (_NETRC, lambda text: word_starts(text, ("machine",))),
    "sql": (_SQL_PASSWORD, _sql_starts),
    # (a match starts at the start of a line holding "pass" in any case)
    "keyword": (_KEYWORD_PASSWORD, _keyword_starts),
    "env": (_ENV_ASSIGN, env_assign_starts),
    "fish-set": (_FISH_SET, lambda text: word_starts(text, ("set",))),
    "url": (_URL_CREDS, url_starts),
    "curl": (_CURL_USER, lambda text: word_starts(text, ("curl",))),
    "sshpass": (_SSHPASS, lambda text: word_starts(text, ("sshpass",))),
    "aws-configure": (_AWS_SET, lambda text: word_starts(text, ("aws",))),
    "rclone-config": (_RCLONE_SET, lambda text: word_starts(text, ("rclone",))),
    "here-string": (_HERE_STRING, lambda text: word_starts(text, ("<<<",))),
    "weechat": (_WEECHAT_SET, lambda text: word_starts(text, ("/set",))),
    "statement": (_STATEMENT_SECRET, lambda text: word_starts(text, ("secret",))),
    "smbclient": (_SMB_USER, lambda text: word_starts(text, ("smbclient",))),
    # ("acme_dns" holds "dns" 5 characters in)
    "caddy-dns": (
        _CADDY_DNS,
        lambda text: [p - b for p in word_starts(text, ("dns",)) for b in (0, 5) if p >= b],
    ),
    # (the match starts at the space before "-o")
    "mount": (_MOUNT_PASSWORD, lambda text: [max(0, i - 1) for i in word_starts(text, ("-o",))]),
    **request_secrets.STARTS,  # Authorization / X-Api-Key headers, query parameters
    **client_passwords.STARTS,  # mysql -p, docker login -p, redis-cli -a, htpasswd -b …
    **connection_strings.STARTS,  # Password=…; in a connection string
}


def _finditer(name: str, text: str) -> Iterator[re.Match[str]]:
    return finditer_named(STARTS, name, text)


# buildCommand, installCommand …: a build's shell script, where echo prints messages
_BUILD_PHASES = frozenset({"build", "install", "check", "configure", "unpack", "patch", "dist"})
_ASSIGNMENT = lazy(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)")


def _rare_commands(text: str) -> list[tuple[int, int, str]]:
    """smbclient's and mount's passwords, Caddy's DNS provider token, BIND's TSIG
    secret, a here-string into a password reader, WeeChat's /set, the AWS CLI's and
    rclone's configuration commands (the patterns above)."""
    found: list[tuple[int, int, str]] = []
    if contains(text, "smbclient"):
        found.extend((m.start(1), m.end(1), "password") for m in _finditer("smbclient", text))
    if contains(text, "dns") and (contains(text, "acme_dns") or contains(text, "tls")):
        found.extend((m.start(1), m.end(1), "api-token") for m in _finditer("caddy-dns", text))
    if contains(text, "algorithm") and contains(text, '";') and contains(text, "secret"):
        found.extend((m.start(1), m.end(1), "secret") for m in _finditer("statement", text))
    if may_hold(text, "pass"):
        found.extend((m.start(1), m.end(1), "password") for m in _finditer("keyword", text))
    if (contains(text, "password=") or contains(text, "pass=")) and contains(text, "-o"):
        found.extend((m.start(1), m.end(1), "password") for m in _finditer("mount", text))
    if contains(text, "<<<"):
        for m in _finditer("here-string", text):
            span = _groups(m)
            # the command the here-string feeds: back to the line's (or pipeline's) start
            head = text[max(0, m.start() - 400) : m.start()]
            command = _COMMAND_START.split(head)[-1]
            if span is not None and _sink(command):
                found.append((*span, "password"))
    for command, word in (("aws-configure", "configure"), ("rclone-config", "config")):
        if contains(text, word) and contains(text, command.split("-")[0]):
            for m in _finditer(command, text):
                span = _groups(m)
                if span is not None:
                    found.append((*span, "secret-key"))
    if contains(text, "/set"):
        for m in _finditer("weechat", text):
            span = _groups(m)
            if span is not None:
                found.append((*span, "password"))
    return found


# OpenSSL's pass phrase arguments name where the password is (env:, file:, fd:) or
# hold it after "pass:" (client_passwords reports that part)
_WHERE_FROM = lazy(r"(?:pass|env|file|fd):")

_FLAG_KIND = {
    "authkey": "auth-key",
    "authtoken": "token",
    "apikey": "api-key",
    "pass": "password",
    "passwd": "password",
    "clientsecret": "secret",
    "presharedkey": "preshared-key",
    "psk": "psk",
    "secretkey": "secret-key",
    "secretaccesskey": "secret-key",
    "privatekey": "private-key",
    "accountkey": "secret-key",
    "b2key": "secret-key",
    "masterkey": "secret-key",
    "encryptionkey": "secret-key",
}


_REDIRECT = lazy(r"[ \t]*>>?[ \t]*(\S+)")


def _sink(text: str) -> bool:
    """Whether what follows a literal makes it a secret.  ``stdin`` is a tool's option
    (``passwd --stdin``), not a file: a redirect into ``…/proxy.stdin`` (a server's
    console) or ``/proc/…/fd/0`` writes a command."""
    redirect = _REDIRECT.match(text)
    if redirect is None:
        return any(w in _SINK_WORDS for w in _named(filters.words(text)))
    target = [w for w in filters.words(redirect.group(1)) if w != "stdin"]
    rest = filters.words(text[redirect.end() :])
    return any(w in _SINK_WORDS for w in (*target, *_named(rest)))


# `wg set wg0 private-key <(echo "…")`: the echo is the file handed to the option or
# flag named just before the process substitution it fills
_FED = lazy(r"(?:^|[\s=])-{0,2}([A-Za-z][A-Za-z0-9_-]*)[ \t]*=?[ \t]*<\([ \t]*$")


def _fed_to(text: str, start: int) -> str | None:
    """The kind of secret the option before ``<(`` names, when the command at
    ``start`` is all of that process substitution's (else None)."""
    head = text[text.rfind("\n", 0, start) + 1 : start]
    if "<(" not in head:
        return None
    named = _FED.search(head)
    return filters.secret_name(named.group(1).replace("-", "_")) if named else None


# gpg's key-management commands take a key's id, not a secret: `| gpg --command-fd 0
# --edit-key <id>` reads commands ("trust", "5", "quit") from the echo
_KEY_VERBS = frozenset({"edit", "sign", "lsign", "list", "recv", "send", "export", "delete"})


def _named(words: list[str]) -> list[str]:
    """``words`` without a "key" that only names a key-management command."""
    return [
        w
        for i, w in enumerate(words)
        if not (w in ("key", "keys") and i and words[i - 1] in _KEY_VERBS)
    ]


def shell_kind(key_words: list[str], sink: str) -> str:
    """The kind of secret a command named ``key_words`` writes to ``sink``."""
    if key_words and "pass" in key_words[0]:
        return "passphrase"
    return filters.secret_name(re.sub(r"[^A-Za-z0-9]+", "_", sink).strip("_")) or "secret"


def _groups(m: re.Match[str], first: int = 1) -> tuple[int, int] | None:
    for index in range(first, (m.lastindex or 0) + 1):
        if m.group(index) is not None:
            return m.start(index), m.end(index)
    return None


def _env_starts(text: str) -> list[int]:
    """Where a ``FOO_TOKEN=`` assignment can start; [] when none can or when the text
    holds none of :data:`_ENV_WORDS` (the text being scanned answers at once when it
    holds none of them in any case, see ``may_hold``)."""
    if "=" not in text or not any(may_hold(text, w.lower()) for w in _ENV_WORDS):
        return []
    starts = env_assign_starts(text)
    if starts and any(may_hold(text, w.lower()) and contains(text, w) for w in _ENV_WORDS):
        return starts
    return []


def _shell_value(text: str, m: re.Match[str], index: int) -> bool:
    """Whether an assignment's value is the shell's: after an opening quote
    (``"API_TOKEN=…"``, ``"TOKEN=… terraform"``) the value is bare, without a string's
    escapes (``"API_KEY=" + x``, ``b"KEY=a\\nB=c"`` in a program are not assignments)."""
    quote = text[m.start() - 1] if m.start() else ""
    value = m.group(index)
    while value[-2:] in _ESCAPES and text[m.end(index) : m.end(index) + 1] == quote:
        value = value[:-2]  # ("TOKEN=…\n": a whole line in a JSON string, a notebook's)
    return quote not in ("'", '"') or (index == 4 and "\\" not in value)


def _fish_sets(text: str) -> list[tuple[int, int, str]]:
    """fish's ``set -gx NAME value`` of a variable named for a secret."""
    found = []
    for m in _finditer("fish-set", text):
        opts, name = m.group("opts"), m.group("name")
        if (not opts and not name.isupper()) or _FISH_NOT_ASSIGN.search(opts):
            continue
        start, end = _groups(m, 3) or (0, 0)
        if _VARIABLE_NAMES.match(text, start):
            continue  # `set -u GH_TOKEN GH_USER GITHUB_TOKEN`: names (meant to unset them)
        kind = named_values.env_key_kind(name, text[start:end])
        if kind is not None and kind != "password-hash":
            found.append((start, end, kind))
    return found


# What follows `set NAME` when it lists other variables' names, up to the end of the
# command (the line's end, a quote or backtick that closes it, ";", "|", "&" or ")")
_VARIABLE_NAMES = lazy(
    r"[A-Z][A-Z0-9]*_[A-Z0-9_]*(?:[ \t]+[A-Z][A-Z0-9]*_[A-Z0-9_]*)*[ \t]*(?:$|[\"'`;|&)])",
    re.MULTILINE,
)


# What every pattern of CommandSecret (and of client_passwords and request_secrets) needs
# between a name and its value: a space (any, as \s reads it), "=", ":" or a here-string's
# "<".  Most Nix literals (a name, a path, a system) hold none: they are not read further.
_SEPARATED = lazy(r"[\s=:<]")

# A command's value shorter than this is never reported (so no shorter text is read).
_SHORTEST = 4

# An echoed literal of this many words is prose (a diceware passphrase has 4 to 8).
_PROSE_WORDS = 10


def _bare_command(key_words: list[str]) -> bool:
    """A command's name that says nothing of a secret (``command``, ``cmd``), unlike
    ``passwordCommand`` or ``tokencmd``."""
    return len(key_words) == 1 and key_words[0] in ("command", "cmd")


@dataclass(frozen=True)
class CommandSecret:
    """Secrets inside commands and flags: ``--authkey=…``, ``echo '…'`` in a
    ``*Command`` option, ``PASSWORD '…'`` in SQL, ``curl -u user:password``,
    ``FOO_TOKEN=…`` assignments."""

    rule: str = "command-secret"
    shortest: int = field(default=_SHORTEST, init=False)  # (every value it yields)

    def find(self, text: str, ctx: Context) -> Iterator[Match]:
        if _SEPARATED.search(text) is None:
            return  # (one word: no command, flag, assignment, header or query is in it)
        found: list[tuple[int, int, str]] = []
        if "-" in text and any(may_match(text, w) for w in _FLAG_WORDS):
            for m in _FLAG_SECRET.finditer(text):
                span = _groups(m, 2)
                if span and _WHERE_FROM.match(text, span[0]) is None:
                    flag = m.group("flag").lower()
                    found.append((*span, _FLAG_KIND.get(flag.replace("-", ""), flag)))
        key_words = filters.words(ctx.key)
        command_key = (
            filters.command_name(ctx.key)
            and key_words[0] not in _BUILD_PHASES  # a derivation's script: echo prints
        )
        if contains(text, "echo") or contains(text, "printf"):
            for m in _finditer("echo", text):
                span = _groups(m)
                value = text[span[0] : span[1]] if span else ""
                if span is None or "$" in value or "`" in value:
                    continue  # made by the shell at run time, not a literal
                while value.endswith(("\\n", "\\r")) and _escapes(m.group()):
                    span, value = (span[0], span[1] - 2), value[:-2]  # printf 'x\n': x
                # one password twice, as a prompt asks (smbpasswd -s): each copy is a hit,
                # or migrate would leave the second in place
                again: tuple[int, int] | None = None
                twice = value.split("\\n")
                if len(twice) == 2 and twice[0] == twice[1] and _escapes(m.group()):
                    span, value = (span[0], span[0] + len(twice[0])), twice[0]
                    again = (span[1] + 2, span[1] + 2 + len(value))
                elif m.end() > span[1] + 1 and (at := text.find(value, span[1] + 1, m.end())) > 0:
                    again = (at, at + len(value))
                fed = _fed_to(text, m.start())  # `private-key <(echo …)`: all the file
                if value.endswith((":", "=")) and not fed:
                    continue  # a prefix the next command completes (echo -n "base64:")
                named = _ASSIGNMENT.fullmatch(value)
                kind = filters.secret_name(named[1]) if named is not None else None
                if named is not None:  # echo 'NAME=value' > file: judged by its name
                    if kind is None:
                        continue  # QBIT_USERNAME=…, HOST=…: not a secret
                    span = (span[0] + named.start(2), span[1])
                line_end = text.find("\n", m.end())
                rest = text[m.end() : line_end if line_end != -1 else len(text)]
                grouped = _GROUP_PIPED.match(rest)  # (a subshell piped: (echo x; echo x) |)
                rest = rest[grouped.end() - 1 :] if grouped is not None else rest
                written = _SINK_START.match(rest) is not None
                sink = written and _sink(rest)
                if not sink and not fed and len(value.split()) >= _PROSE_WORDS:
                    continue  # a message a hook prints (ten words and more), not a secret
                # a plain `command = "echo …"` (a devshell's, a hook's): it prints a
                # message unless what it prints is one generated token
                bare = command_key and not (sink or fed or kind) and _bare_command(key_words)
                if bare and not random_looking(value.strip("'\"")):
                    continue
                if command_key or sink or (kind is not None and written) or fed:
                    found.append((*span, kind or fed or shell_kind(key_words, rest)))
                    if again is not None:
                        found.append((*again, kind or fed or shell_kind(key_words, rest)))
            if "-" in text:  # restic --password-command "echo …": what it prints
                for m in _FLAG_ECHO.finditer(text):
                    flag = re.sub(r"[-_]?(?:command|cmd|eval)$", "", m.group("flag"))
                    kind = filters.secret_name(flag.replace("-", "_"))
                    printed = _groups(m, 3)
                    if kind is not None and printed is not None:
                        found.append((*printed, kind))
        if contains(text, "<<") and contains(text, "cat"):
            for m in _finditer("heredoc", text):
                target = m.group("head") + m.group("tail")
                if not command_key and not _sink(target):
                    continue
                body = m.group("body")
                lines = [line for line in body.splitlines() if line.strip()]
                if len(lines) != 1 or "=" in lines[0]:
                    continue  # NAME=value lines are read as assignments below
                stripped = lines[0].strip()
                first = m.start("body") + body.find(stripped)
                found.append((first, first + len(stripped), shell_kind(key_words, target)))
        if contains(text, "machine") and contains(text, "password"):
            for m in _finditer("netrc", text):
                found.append((m.start(1), m.end(1), "password"))
        if (
            may_hold(text, "pass") and (contains(text, "PASSWORD") or contains(text, "password"))
        ) or (
            may_hold(text, "identified")
            and (contains(text, "IDENTIFIED") or contains(text, "identified"))
        ):
            for m in _finditer("sql", text):
                span = _groups(m)
                if span:
                    found.append((*span, "password"))
        if contains(text, "sshpass"):
            for m in _finditer("sshpass", text):
                span = _groups(m)
                if span and "$" not in text[span[0] : span[1]]:  # not a shell variable
                    found.append((*span, "password"))
        found.extend(_rare_commands(text))
        if contains(text, "curl"):
            for m in _finditer("curl", text):
                span = _groups(m)
                if span:
                    found.append((*span, "password"))
        found.extend(request_secrets.request_secrets(text))
        found.extend(client_passwords.client_passwords(text))
        found.extend(connection_strings.connection_passwords(text))
        found.extend(request_secrets.named_header(ctx.key, text))
        env_starts = _env_starts(text)
        if env_starts:
            for m in matches_at(_ENV_ASSIGN, text, env_starts):
                name = m.group(1)
                for index in (2, 3, 4):
                    if m.group(index) is not None:
                        if not _shell_value(text, m, index):
                            break
                        end = m.end(index)  # (a JSON string's line: "TOKEN=…\n" in a notebook)
                        while index == 4 and text[end - 2 : end] in _ESCAPES and end > m.start(4):
                            end -= 2
                        kind = named_values.env_key_kind(name, text[m.start(index) : end])
                        if kind is not None and kind != "password-hash":
                            found.append((m.start(index), end, kind))
                        break
        if contains(text, "set") and any(may_hold(text, w.lower()) for w in _ENV_WORDS):
            found.extend(_fish_sets(text))
        for start, end, kind in found:
            start, end = substituted(text, start, end)  # `$(echo …)`: the literal it prints
            value = text[start:end]
            lead = value.lstrip()[:1]  # (" --flag …" after a quote: options, not a value;
            # "-rofi-pass +dpass": a feature switched on, as USE flags and toggles write)
            if filters.not_secret(value) or len(value) < _SHORTEST or lead in "([{<$%@-+":
                continue
            if "`" in value:
                continue  # TOKEN=`cat file`: the shell runs a command, no literal
            yield Match(start, end, self.rule, kind, "high")


@dataclass(frozen=True)
class UrlCredentials:
    """A password in a URL's user part (``scheme://user:<this>@host``)."""

    rule: str = "url-credentials"

    shortest: int = field(default=8, init=False)  # shortest_match(_URL_CREDS): its values

    def find(self, text: str, ctx: Context) -> Iterator[Match]:
        if "@" not in text or not contains(text, "://") or _URL_TAIL.search(text) is None:
            return
        for m in _finditer("url", text):
            value = m.group(1)
            if filters.not_secret(value) or value.startswith(("$", "%", "{")):
                continue
            if _DOCUMENTATION_HOST.match(text, m.end(1) + 1) and not mixed_generated(value):
                continue  # (admin:pass@db.example.com in a how-not-to; not a generated one)
            yield Match(m.start(1), m.end(1), self.rule, "password")


# A host name reserved for documentation (RFC 2606 and RFC 6761): example.com, .org and
# .net and any name under them, and the .example, .invalid and .test top-level names.
# No server answers there: credentials for one are an example's.
_DOCUMENTATION_HOST = lazy(
    r"(?:[A-Za-z0-9-]+\.)*(?:example\.(?:com|org|net)|[A-Za-z0-9-]+\.(?:example|invalid|test))"
    r"\.?(?![A-Za-z0-9.-])",
    re.IGNORECASE,
)
