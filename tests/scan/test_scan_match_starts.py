"""The fast paths of the detectors give exactly what plain ``finditer`` gives.

Patterns without a literal prefix are tried only where a match can start
(:mod:`secretkit.scan.match_starts`).  Each pattern with its start finder is held to
``pattern.finditer`` — the reference — over texts generated at run time from the
detectors' trigger strings, quotes, dashes, ``=``, line breaks and the characters
``re.IGNORECASE`` treats specially; a start finder that misses one position fails.
"""

from __future__ import annotations

import base64
import random
import re
import string
import sys
from collections.abc import Callable, Iterable

import pytest

from secretkit.scan.detectors import DETECTORS, STARTS, RegexDetector
from secretkit.scan.match_starts import contains, find, folded, matches_at, word_starts

_ALNUM = string.ascii_letters + string.digits
# Pieces the texts are made of: trigger words of every pattern, in and out of shape.
_PIECES = [
    "echo", "printf", "echo -n ", "echo -e ", "printf -- ", "printf '%s\\n' ", "cat <<EOF\n",
    "EOF\n", "cat > /run/key <<'EOF'\n", "cat<<-\"X\"\n", "X\n", "| chpasswd", "> /etc/psk",
    "machine ", " login ", " password ", "PASSWORD ", "IDENTIFIED BY ", "identified\tby ",
    "pAsSwOrD ", "Pa\u017fsword ", "\u0130dentified by ", "\u0131dentified by ", "PASS\u212aEY",
    "DB_PASS=", "X_PW=", "_SECRET=", "A1_AUTH=", "tok=", ";", " ; ", "--password=", "-psk=",
    "https://", "u:", "@h", "://", "ftp+x.y-z://", "a.b://", "_x://", "9://", "@", "==", "===",
    ":", "cache.example.org-1:", "a_b-c.d:", "-:", "+:", "/:", "tskey-", "tskey-auth-",
    "'", '"', " ", "  ", "\t", "\n", "\r\n", "=", "-", "--", "$", "`", "\u00e9", "\u00a0",
    "\u2028", "\U0001f600", "[", "(", "|", "&", "#", ".", "_",
    "curl", "curl ", "libcurl ", "/bin/curl -sS", " -u ", " -u", "--user ", "--user-agent ",
    "Authorization", "authorization:", "Proxy-Authorization: ", "AUTHORIZATION", "a-uthorization",
    "AuThOrIzAtIoN", "Bearer ", "basic ", "token\t", "X-Api-Key", "x-api-key: ", "API-KEY",
    "xx-api-key", "?", "?token=", "&api_key=", "&apikey=", "?secret=", "&password=",
    "?access_token=", "key=", "passwd=", "#", "sshpass", "sshpass -p ", "sshpass\t-p", "-p",
    "xsshpass -p ",
    "mysql", " -p", "smbclient", "docker", " login", "redis-cli", " -a", "htpasswd", " -b",
    "openssl", " -k", "-pass", "pass:", "7z", "set ", "set -gx ", "-token", "X-Vault-Token ",
    " -U ", "%", "-o ", " -o", "password=", ",",
    'secret "', 'secret "k";', '";', "secret\t", 'secret  "', "<<<", "<<< '", "/set ",
    "\npassword ", "\nPass ",
]  # fmt: skip


def _word(rng: random.Random, low: int, high: int, chars: str = _ALNUM) -> str:
    return "".join(rng.choice(chars) for _ in range(rng.randint(low, high)))


def _mysql(rng: random.Random) -> str:
    tool = rng.choice(["mysql", "mysqldump", "mariadb", "xmysql", "mariadb-dump"])
    args = rng.choice(["", " -uroot", " -h db -u a", " --batch"])
    flag = rng.choice([" -p", " -p ", "\t-p", " -P"])
    quote = rng.choice(["", "", "'", '"'])
    return f"{tool}{args}{flag}{quote}{_word(rng, 0, 9)}{quote}{rng.choice(['', ' db', ';'])}"


def _smbclient(rng: random.Random) -> str:
    flag = rng.choice([" -U ", " -U", " --user=", " --user ", " -u "])
    quote = rng.choice(["", "'", '"'])
    share = rng.choice(["", " //nas/x", " -L h"])
    return f"smbclient{share}{flag}{quote}{_word(rng, 0, 5)}%{_word(rng, 0, 9)}{quote}"


def _mount(rng: random.Random) -> str:
    before = rng.choice(["mount -t cifs //h/s /m", "x", "", "\n", " sshfs h: /m"])
    flag = rng.choice([" -o ", " -o", "\t-o ", " -o '"])
    opts = rng.choice(["username=u,", "", "uid=1,user=x,", "ro,"])
    name = rng.choice(["password=", "pass=", "passwd=", "Password="])
    return f"{before}{flag}{opts}{name}{_word(rng, 0, 9)}"


def _statement(rng: random.Random) -> str:
    word = rng.choice(["secret", "x-secret", "secrets", "Secret", ".secret", "algorithm; secret"])
    space, end = rng.choice([" ", "  ", chr(9), ""]), rng.choice([";", " ;", ""])
    return f'{word}{space}"{_word(rng, 0, 12)}"{end}'


def _keyword(rng: random.Random) -> str:
    word = rng.choice(["password", "Pass", "pass", "PASSWORD", "passwd", "Password"])
    value = rng.choice([_word(rng, 1, 9), "required x", "sufficient", "a b"])
    return f"{rng.choice(['', chr(10), chr(10) + '  '])}{word}{rng.choice([' ', chr(9)])}{value}"


def _here(rng: random.Random) -> str:
    quote = rng.choice(["'", '"'])
    space = rng.choice(["", " ", "  "])
    return f"passwd --stdin u <<<{space}{quote}{_word(rng, 0, 9)}{quote}"


def _weechat(rng: random.Random) -> str:
    option = rng.choice(["irc.server.x.password", "sasl_password", "x.token", "relay.port"])
    value = rng.choice([_word(rng, 1, 9), '"' + _word(rng, 0, 6) + '"'])
    return f"/set{rng.choice([' ', chr(9), '  '])}{option}{rng.choice([' ', chr(9)])}{value}"


def _client(rng: random.Random) -> str:
    """A client given a password: docker login, redis-cli, htpasswd, openssl, 7z, fish."""
    quote = rng.choice(["", "'", '"'])
    value = f"{quote}{_word(rng, 0, 9)}{quote}"
    return rng.choice(
        [
            f"{rng.choice(['docker', 'podman --log-level=x', 'xdocker'])}"
            f"{rng.choice([' login', ' run', ' login -u me'])}{rng.choice([' -p', ' -p ', ' -p='])}"
            f"{value}",
            f"{rng.choice(['redis-cli', 'valkey-cli -h h'])}{rng.choice([' -a', ' -a ', ' --a '])}"
            f"{value}",
            f"htpasswd{rng.choice([' -b', ' -nb', ' -bc', ' -c'])}{rng.choice([' f', ''])}"
            f" u {value}",
            f"openssl enc{rng.choice([' -k ', ' -K ', ' -kfile '])}{value}",
            f"{rng.choice([' -pass ', ' -passin ', '-pass '])}{quote}pass:{value.strip(quote)}"
            f"{quote}",
            f"{rng.choice(['7z a', '7za x', 'x7z a'])}{rng.choice([' -p', ' -o'])}{value}",
            f"set{rng.choice([' -gx', ' -Ux', ' -e', '', ' --global'])}"
            f" {rng.choice(['API_TOKEN', 'api_key', 'EDITOR'])} {value}",
            f"{rng.choice(['curl', 'wget', 'x'])}"
            f"{rng.choice([' -d', ' -F', ' --data-raw', ' --form', '-d', ' --post-data', ' -D'])}"
            f"{rng.choice([' ', '=', '  ', ''])}{quote}{rng.choice(['token', 'a.b', '9x'])}="
            f"{_word(rng, 6, 14)}{quote}",
        ]
    )


def _snippet(rng: random.Random) -> str:
    """One well-formed construct of a pattern, around which the pieces fall."""
    kind = rng.randrange(10)
    if kind >= 8:
        return rng.choice([_mysql, _smbclient, _mount, _statement, _keyword, _here, _weechat])(rng)
    if kind == 5:
        head = rng.choice(
            ["Authorization", "authorization", "Proxy-Authorization", "AUTHORIZATION"]
        )
        sep = rng.choice([": ", ":", " ", "=", '" "', "\t"])
        scheme = rng.choice(["Bearer ", "token ", "Basic\t", "bearer  "])
        return f"{head}{sep}{scheme}{_word(rng, 8, 20, _ALNUM + '._-+/=')}"
    if kind == 6:
        head = rng.choice(
            ["X-Api-Key", "x-api-key", "API-KEY", "-x-api-key", "X-Auth-Token", "Private-Token"]
        )
        end = rng.choice(["", ";", '";', " ;"])
        sep = rng.choice([": ", ":", " : ", " ", ' "'])
        return f"{head}{sep}{_word(rng, 8, 20)}{end}"
    if kind == 7:
        name = rng.choice(["token", "access_token", "api_key", "apikey", "secret", "passwd", "key"])
        return f"https://h/p{rng.choice(['?', '&', '?x=1&'])}{name}={_word(rng, 4, 14)}"
    if kind == 4 and rng.random() < 0.3:
        quote = rng.choice(["", "'", '"'])
        return (
            f"sshpass{rng.choice([' -p', ' -p ', chr(9) + '-p'])}{quote}{_word(rng, 0, 9)}{quote}"
        )
    if kind == 4:
        flag = rng.choice([" -u ", " -u", " --user ", " --user\t", " --user-agent "])
        quote = rng.choice(["", "'", '"'])
        options = rng.choice(["", " -fsS", " https://h", " | x"])
        return f"curl{options}{flag}{quote}{_word(rng, 0, 5)}:{_word(rng, 0, 9)}{quote}"
    if kind == 0:
        tag = rng.choice(["EOF", "X", "END"])
        head = rng.choice(["cat <<", "cat > /etc/psk <<-", "cat<<'", "cat >> x <<"])
        body = "\n".join(_word(rng, 0, 10) for _ in range(rng.randint(0, 3)))
        return f"{head}{tag}{rng.choice(['', chr(39)])}\n{body}\n{rng.choice(['', ' '])}{tag}"
    if kind == 1:
        login = rng.choice([" login u", "", "\n login u"])
        password = rng.choice([" password ", "  password"])
        return f"machine {_word(rng, 1, 6)}{login}{password}{_word(rng, 1, 9)}"
    if kind == 2:
        word = rng.choice(
            ["IDENTIFIED BY ", "PASSWORD ", "password ", "identified  by ", "Passw\u0130rd "]
        )
        quote = rng.choice(["'", '"'])
        return f"{word}{quote}{_word(rng, 1, 9)}{quote}"
    prefix = rng.choice(["", "auth-", "client-", "X-"])
    return f"tskey-{prefix}{_word(rng, 5, 8)}-{_word(rng, 15, 20)}"


def _prefixed(rng: random.Random) -> str:
    """GitHub fine-grained, Google, npm, Hugging Face, OpenAI and Anthropic tokens, near
    their lengths."""
    prefix, size = rng.choice(
        [
            ("github_pat_", 82),
            ("AIza", 35),
            ("npm_", 36),
            ("hf_", 34),
            (rng.choice(["sk-proj-", "sk-admin-", "disk-proj-", "sk-"]), 40),
            (rng.choice(["sk-ant-api03-", "sk-ant-admin01-", "-sk-ant-api03-"]), 80),
        ]
    )
    alphabet = string.ascii_letters if prefix == "hf_" else _ALNUM + rng.choice(["", "_", "-"])
    body = "".join(rng.choice(alphabet) for _ in range(size + rng.choice([-1, 0, 0, 0, 1])))
    return rng.choice(["", "x", "_", " ", '"']) + prefix + body


def _newer(rng: random.Random) -> str:
    """Clients given a password (OpenLDAP, Mosquitto, sqlcmd, zip, lftp, nmcli) and the
    formats of secretkit.scan.prefixed_tokens, near their lengths."""
    if rng.random() < 0.6:
        from tests.scan.test_scan_rules import PREFIXED_FAMILY

        _rule, build, look_alike = rng.choice(PREFIXED_FAMILY)
        value = build() if rng.random() < 0.8 else look_alike()
        if rng.random() < 0.3:  # (near its length: one character more or less)
            value = value[:-1] if rng.random() < 0.5 else value + rng.choice(_ALNUM + "_-=")
        if value.startswith("fm2_") and rng.random() < 0.5:  # (Fly.io's first macaroons)
            value = rng.choice(["fm1r_", "fm1a_", "fm1x_"]) + value[4:]
        return rng.choice(["", "x", "_", " ", '"', "."]) + value + rng.choice(["", " ", "\n"])
    quote = rng.choice(["", "'", '"'])
    value = f"{quote}{_word(rng, 0, 9)}{quote}"
    long = "".join(rng.choice(_ALNUM) for _ in range(rng.choice([8, 12, 20])))
    opening = rng.choice(["", "^", '"', '"^'])
    return rng.choice(
        [
            f"if ({rng.choice(['$http_x_api_key', '$HTTP_X_Api_Key', '$http_api_key', 'x_api'])}"
            f"{rng.choice([' != ', '=', ' !~ ', ' ~* ', ' '])}{opening}{long}",
            f"{rng.choice(['ldapsearch -x', 'ldapadd', 'xldapsearch', 'ldap'])}"
            f"{rng.choice([' -w', ' -w ', ' -W ', '-w '])}{value}",
            f"{rng.choice(['mosquitto_pub', 'mosquitto_sub -h h', 'mosquitto_x'])}"
            f"{rng.choice([' -P ', ' -P', ' -p '])}{value}",
            f"{rng.choice(['sqlcmd -S s', 'bcp t in f', 'xsqlcmd'])}{rng.choice([' -P', ' -P '])}"
            f"{value}",
            f"{rng.choice(['zip -r', 'unzip', 'gzip', 'a.zip', 'zip'])}"
            f"{rng.choice([' -P ', ' -P', ' -p '])}{value}",
            f"lftp{rng.choice([' -u ', ' -u', ' -e '])}{rng.choice(['me,', 'me', ','])}{value}",
            f"nmcli{rng.choice(['', ' -w 10', ' --ask'])} "
            f"{rng.choice(['x', 'dev wifi connect x', 'd wifi c x', 'con mod x', 'c add t'])}"
            f"{rng.choice([' password ', ' wifi-sec.psk ', ' password', ' (passw0rd '])}{value}",
            f"nmcli c m x{rng.choice([' 802-11-wireless-security.psk ', ' 802-11-x.psk '])}{value}",
            f"{rng.choice(['aws', 'xaws', 'aws '])} configure{rng.choice([' set ', ' set', ' '])}"
            f"{rng.choice(['aws_secret_access_key', 'p.aws_session_token', 'region'])}"
            f"{rng.choice([' ', '=', ' = '])}{value}",
            f"{rng.choice(['rclone', 'xrclone'])} config {rng.choice(['create', 'update', 'show'])}"
            f" r s3{rng.choice([' secret_access_key ', ' key=', ' pass', ' x '])}{value}",
            f"{rng.choice(_DNS_LEADS)}{rng.choice(_DNS_PROVIDERS)}{_word(rng, 12, 24)}"
            f"{rng.choice(_DNS_ENDS)}",
            f"{rng.choice(['sed -i ', 'sed -e', 'xsed ', 'sed'])}{rng.choice(_SED_LEADS)}"
            f"s{rng.choice(['/', '|', '#', '/@'])}{rng.choice(['DB_PASS', '@TOKEN@', 'x', '/'])}"
            f"{rng.choice(['/', '|', '#'])}{value}{rng.choice(['/', '|g', '#', ''])}",
        ]
    )


_SED_LEADS = ["'", '"', " ", ""]
_DNS_LEADS = ["acme_dns", "dns", "xdns", "_dns", "acme_dns\t", " dns", "tls {\n  dns"]
_DNS_PROVIDERS = [" cloudflare ", " duckdns\t", " route53 ", " cloudflare"]
_DNS_ENDS = ["", " }", "\n", " # x", " y"]


def _token(rng: random.Random) -> str:
    kind = rng.randrange(8)
    if kind == 7:
        return _prefixed(rng)
    if kind == 6:
        return _client(rng) if rng.random() < 0.5 else _snippet(rng)
    if kind == 5:
        return _snippet(rng)
    if kind == 0:
        return "".join(rng.choice(_ALNUM) for _ in range(rng.choice([6, 16, 20, 32, 40])))
    if kind == 1:
        return base64.b64encode(rng.randbytes(64)).decode()  # 86 characters and "=="
    if kind == 2:
        name = "".join(rng.choice(_ALNUM + "._-") for _ in range(rng.randint(1, 8)))
        return name + ":" + base64.b64encode(rng.randbytes(64)).decode()
    if kind == 3:
        user = "".join(rng.choice(_ALNUM) for _ in range(rng.randint(0, 6)))
        word = "".join(rng.choice(_ALNUM + "$%{") for _ in range(rng.randint(1, 12)))
        return rng.choice(["https", "a+b.c", "X"]) + f"://{user}:{word}@" + rng.choice("h/ ")
    name = rng.choice(["DB_PASSWORD", "API_TOKEN", "X_KEY", "_PW", "A9"])
    quote = rng.choice(["'", '"', ""])
    value = "".join(rng.choice(_ALNUM) for _ in range(rng.randint(0, 20)))
    return rng.choice(["", " ", ";", "\n", "x"]) + f"{name}={quote}{value}{quote}"


def _texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        parts = [
            _token(rng) if rng.random() < 0.3 else rng.choice(_PIECES)
            for _ in range(rng.randint(1, 30))
        ]
        out.append("".join(parts))
    return out


_TEXTS = _texts(15, 4000)


def _newer_texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return [
        "".join(
            _newer(rng) if rng.random() < 0.3 else rng.choice(_PIECES)
            for _ in range(rng.randint(1, 20))
        )
        for _ in range(count)
    ]


# (the patterns added after _TEXTS was sized: exercised by texts of their own, so that
# each of the older patterns keeps its share of _TEXTS)
_NEWER_TEXTS = _newer_texts(16, 4200)


def _fast_paths() -> dict[str, tuple[re.Pattern[str], Callable[[str], Iterable[int] | None]]]:
    from secretkit.scan.match_starts import word_starts
    from secretkit.scan.prefixed_tokens import FORMATS

    paths = dict(STARTS)
    for name, detector in DETECTORS.items():
        if isinstance(detector, RegexDetector) and detector.starts is not None:
            paths[name] = (detector.pattern, detector.starts)
    for name, fmt in FORMATS.items():  # (tried where the prefix is, as the detector does)

        def starts(text: str, prefix: str = fmt.prefix, back: int = fmt.back) -> list[int]:
            return sorted({max(0, s - back) for s in word_starts(text, (prefix,))})

        paths[f"prefixed:{name}"] = (fmt.pattern, starts)
    return paths


def _found(matches: Iterable[re.Match[str]]) -> list[tuple[object, ...]]:
    return [(m.span(), m.groups(), tuple(m.span(i) for i in range(len(m.groups()) + 1)))
            for m in matches]  # fmt: skip


def _differences(
    pattern: re.Pattern[str], where: Callable[[str], Iterable[int] | None], texts: list[str]
) -> int:
    bad = 0
    for text in texts:
        starts = where(text)
        fast = pattern.finditer(text) if starts is None else matches_at(pattern, text, starts)
        bad += _found(fast) != _found(pattern.finditer(text))
    return bad


_NEWER = {"ldap", "mosquitto", "sqlcmd", "zip", "lftp", "nmcli", "aws-configure"}
_NEWER |= {"rclone-config", "nginx-key", "sed", "caddy-dns"}
_NEWER |= {name for name in _fast_paths() if name.startswith("prefixed:")}


@pytest.mark.parametrize("name", sorted(_fast_paths()))
def test_fast_path_finds_what_finditer_finds(name: str) -> None:
    pattern, where = _fast_paths()[name]
    texts = _NEWER_TEXTS if name in _NEWER else _TEXTS
    matched = sum(1 for text in texts if pattern.search(text))
    assert matched >= 20, "the generated texts must exercise the pattern"
    assert _differences(pattern, where, texts) == 0


def test_a_start_finder_that_misses_positions_is_caught() -> None:
    pattern, _ = STARTS["echo"]
    assert _differences(pattern, lambda text: word_starts(text, ("echo",)), _TEXTS) > 0
    url, _ = STARTS["url"]
    assert _differences(url, lambda text: [m.start() for m in re.finditer("://", text)], _TEXTS)


def test_folded_keeps_every_letter_ignorecase_matches() -> None:
    """Wherever ``re.IGNORECASE`` matches a character to an ASCII letter, ``folded``
    holds that letter at the same position (or gives up on the text)."""
    letter = re.compile("[a-z]", re.IGNORECASE)
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if not letter.fullmatch(char):
            continue
        lowered = folded(f"x{char}y")
        if lowered is None:
            continue
        assert len(lowered) == 3 and re.fullmatch(lowered[1], char, re.IGNORECASE), hex(code)
        assert lowered[1] in string.ascii_lowercase, hex(code)


def test_literal_scans_on_large_texts_equal_plain_str_methods() -> None:
    """Large texts take re's literal scan: it must answer what ``in``, ``str.find``
    and a scan for every occurrence answer."""
    rng = random.Random(7)
    needles = ["==", "://", "aws", "SG.", ":AA", "echo", "cat", "pw", "key", "aa", "aaa", "-us"]
    for _ in range(40):
        text = "".join(rng.choice(_TEXTS) for _ in range(rng.randint(60, 200)))
        while len(text) < 1 << 14:
            text += rng.choice(_TEXTS)
        text += rng.choice(["", "aa", "a", "ke", "pw"])
        assert len(text) >= 1 << 14
        for needle in needles:
            assert contains(text, needle) == (needle in text)
            for start in (0, 1, len(text) // 2, len(text) - 2, len(text), len(text) + 3):
                assert find(text, needle, start) == text.find(needle, start)
            every = [i for i in range(len(text)) if text.startswith(needle, i)]
            assert word_starts(text, (needle,)) == every
        assert word_starts(text, ("echo", "cat")) == sorted(
            word_starts(text, ("echo",)) + word_starts(text, ("cat",))
        )


def test_url_tail_is_in_every_text_with_url_credentials() -> None:
    """The URL detector skips a text without ``_URL_TAIL``: every match of the full
    pattern holds one."""
    from secretkit.scan.command_detectors import _URL_CREDS, _URL_TAIL

    with_credentials = [text for text in _TEXTS if _URL_CREDS.search(text)]
    assert len(with_credentials) >= 20
    assert all(_URL_TAIL.search(text) for text in with_credentials)
    assert any(_URL_TAIL.search(text) and not _URL_CREDS.search(text) for text in _TEXTS)


def test_what_is_known_of_a_text_carries_to_its_next_version_exactly() -> None:
    # Known.after: a substring without a line break lies within one line; what is
    # carried must be what asking the new text gives, and most of it is carried
    import random

    from secretkit.scan.match_starts import Known, contains, may_hold, remembering

    rng = random.Random(3)
    words = ["password", "echo", "curl", "aws", "machine", "<<", "SG.", ":AA", "ENC["]
    pieces = [*words, "x", "y ", "AWS", "Pass", "\n", "\n", "token", "sg.", "a<", "<"]
    # (non-ASCII texts carry substrings, not lower-cased words)
    pieces += ["\u00e9", "\u0130", "\u03a3"]
    carried = asked = carried_other = 0
    for _ in range(600):
        size = rng.choice([3, 40, 80])  # (a small text changes much: nothing is carried)
        old = "\n".join(
            "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6))) for _ in range(size)
        )
        lines = old.split("\n")
        for _edit in range(rng.randint(1, 4)):
            # anywhere: a flake.lock's update changes lines far apart
            at = rng.choice([0, len(lines) - 1, rng.randrange(len(lines))])
            choice = rng.randrange(5)
            if choice == 0:
                lines.insert(at, "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8))))
            elif choice == 1 and len(lines) > 1:
                del lines[at]
            elif choice == 2:  # a line moved, or a copy of a line made or taken away
                lines.insert(rng.randrange(len(lines)), lines[at])
                if rng.random() < 0.5 and len(lines) > 2:
                    del lines[rng.randrange(len(lines))]
            elif choice == 3:
                lines[at], lines[-1] = lines[-1], lines[at]
            else:
                lines[at] += rng.choice(pieces)
        new = "\n".join(lines)
        known = Known()
        with remembering(old, known):
            for word in words:
                contains(old, word)
                may_hold(old, word.lower())
        after = known.after(old, new)
        for needle, held in after.present.items():
            assert held == (needle in new), (old, new, needle)
        for word, held in after.words.items():
            assert held == (word in new.lower()), (old, new, word)
        if not (old.isascii() and new.isascii()):
            assert not after.words
            carried_other += len(after.present)
        carried += len(after.present) + len(after.words)
        asked += len(known.present) + len(known.words)
        # and the scan of the new text starts from it, asking only what is not known
        with remembering(new, after):
            assert all(contains(new, w) == (w in new) for w in words)
    assert carried > asked // 3, (carried, asked)
    assert carried_other > 200, carried_other


def test_lines_changed_all_over_a_text_are_counted_one_by_one() -> None:
    # a flake.lock update: lines changed at the top and the bottom, the many between
    # the same; what is carried is decided by the changed lines, not by that span
    from secretkit.scan.match_starts import Known, _changed_lines, contains, remembering

    middle = [f'  "input{i}": {{ "owner": "o{i}", "repo": "r" }},' for i in range(200)]
    old = "\n".join(['  "rev": "aaaa",', *middle, '  "narHash": "sha256-bbbb",'])
    new = "\n".join(['  "rev": "cccc",', *middle, '  "narHash": "sha256-dddd",'])
    removed, added = _changed_lines(old, new)
    assert sorted(removed.split("\n")) == ['  "narHash": "sha256-bbbb",', '  "rev": "aaaa",']
    assert sorted(added.split("\n")) == ['  "narHash": "sha256-dddd",', '  "rev": "cccc",']
    known = Known()
    with remembering(old, known):
        for needle in ("owner", "aaaa", "echo", "input199"):
            contains(old, needle)
    after = known.after(old, new)
    assert after.present == {"owner": True, "echo": False, "input199": True}
    # a copy of a line taken away or added: the text still holds that line, so it is
    # in neither (what is carried is whether some line holds a thing); only a line
    # that no copy of is left is lost
    twice = ["top", *["secret here", "b"] * 50, "end"]
    once = ["TOP", *["secret here", "b"] * 49, "b", "b", "END"]
    removed, added = _changed_lines("\n".join(twice), "\n".join(once))
    assert sorted(removed.split("\n")) == ["end", "top"]
    assert sorted(added.split("\n")) == ["END", "TOP"]
    before, after_text = "\n".join(twice), "\n".join(once)
    known = Known()
    with remembering(before, known):
        contains(before, "secret")
        contains(before, "echo")
        contains(before, "top")
    carried = known.after(before, after_text).present
    assert carried == {"echo": False, "secret": True}  # ("top" is asked again)
    with remembering(after_text, Known()):
        assert (contains(after_text, "secret"), contains(after_text, "top")) == (True, False)


def _vendorish(rng: object) -> str:
    import random

    assert isinstance(rng, random.Random)
    alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    pieces = [
        "AKIA" + "".join(rng.choice(upper) for _ in range(16)),
        "".join(rng.choice(alnum) for _ in range(40)) + '"',
        "glpat-",
        "xoxb-",
        "ghp_",
        "AC" + "".join(rng.choice("abcdef0123") for _ in range(32)),
        "M" + "".join(rng.choice(alnum) for _ in range(24)) + ".abcdef." + "x" * 27,
        "x-us12",
        "".join(rng.choice("abcdef0123") for _ in range(32)) + "-us3",
        # the two halves apart: joined by a line break they are no token (a prefix
        # test anchored with $ took one ending before a line break)
        "M" + "".join(rng.choice(alnum) for _ in range(24)),
        ".abcdef." + "x" * 27,
        "".join(rng.choice("abcdef0123") for _ in range(32)),
        "-us3",
        "aws",
        " ",
        "\n",
        "\n",
        "q",
        "9",
    ]
    return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))


def test_every_line_test_holds_of_a_text_exactly_when_of_one_of_its_lines() -> None:
    # the claim that lets Known.after carry their answers (detectors' vendor tests)
    import random

    import secretkit.scan.vendor_filter  # noqa: F401  (registers the vendor tests)
    from secretkit.scan.match_starts import _LINE_TESTS

    rng = random.Random(11)
    assert len(_LINE_TESTS) >= 8
    held = dict.fromkeys(_LINE_TESTS, 0)
    for _ in range(400):
        text = _vendorish(rng)
        for key, test in _LINE_TESTS.items():
            whole = test(text)
            assert whole == any(test(line) for line in text.split("\n")), (key, text)
            held[key] += whole
    assert sum(1 for count in held.values() if count) >= len(_LINE_TESTS) - 2, held


def test_line_tests_carry_to_the_next_version_exactly() -> None:
    import random

    from secretkit.scan.detectors import vendor_rules
    from secretkit.scan.match_starts import _LINE_TESTS, Known, remembering

    rng = random.Random(5)
    carried = 0
    for _ in range(200):
        lines = [_vendorish(rng).replace("\n", " ") for _ in range(30)]
        old = "\n".join(lines)
        for _edit in range(rng.randint(1, 2)):
            lines[rng.randrange(len(lines))] = _vendorish(rng).replace("\n", " ")
        new = "\n".join(lines)
        known = Known()
        with remembering(old, known):
            vendor_rules(old)
        after = known.after(old, new)
        for key, held in after.tests.items():
            assert held == _LINE_TESTS[key](new), (key, old, new)
        carried += len(after.tests)
        fresh = new.encode().decode()  # (another object: nothing remembered for it)
        assert fresh is not new
        with remembering(new, after):
            assert vendor_rules(new) == vendor_rules(fresh)
    assert carried > 200


def test_client_option_gate_answers_as_a_space_then_a_dash() -> None:
    """client_passwords' gate, led by the "-" for speed, says what ``\\s-`` says: for
    every character ``\\s`` takes as a space (Unicode ones too), at the start, the
    middle and the end, and on the generated texts."""
    from secretkit.scan.client_passwords import _OPTION

    spaces = [chr(c) for c in range(0x3001) if re.fullmatch(r"\s", chr(c))]
    assert len(spaces) > 20 and "\x1c" in spaces and "\u3000" in spaces
    texts = ["", "-", "--", "a-b", "-p", "x\u00a0", *_TEXTS]
    for space in spaces:
        texts += [space + "-", "a" + space + "-p", space, "-" + space, "x" + space + "y-"]
    answers = [(_OPTION.search(t) is None, re.search(r"\s-", t) is None) for t in texts]
    assert all(fast == plain for fast, plain in answers)
    assert sum(not plain for _fast, plain in answers) > 100  # (both answers exercised)


@pytest.mark.parametrize("kind", [str, bytes])
def test_shared_start_and_end_are_counted_exactly(kind: type) -> None:
    """same_start and same_end (blocks compared, then halved) against a character by
    character count, across the block size and with limits below the lengths."""
    import random

    from secretkit.scan.match_starts import same_end, same_start

    def naive(a: str, b: str, limit: int) -> int:
        n = 0
        while n < min(limit, len(a), len(b)) and a[n] == b[n]:
            n += 1
        return max(0, min(n, limit))

    rng = random.Random(7)
    for _ in range(400):
        common = "".join(rng.choice("ab\n") for _ in range(rng.choice([0, 5, 4095, 4096, 9000])))
        a = "".join(rng.choice("ab") for _ in range(rng.randint(0, 30)))
        b = "".join(rng.choice("ab") for _ in range(rng.randint(0, 30)))
        limit = rng.choice([0, 3, len(common), min(len(a), len(b)) + len(common)])
        texts = [common + a, common + b, a + common, b + common]
        given = [t.encode() for t in texts] if kind is bytes else texts
        assert same_start(given[0], given[1], limit) == naive(texts[0], texts[1], limit)
        assert same_end(given[2], given[3], limit) == naive(texts[2][::-1], texts[3][::-1], limit)


def test_a_vendor_prefix_test_never_reads_across_a_line_break() -> None:
    """The discord and mailchimp pre-filters check the part before the literal they
    scan for with a pattern anchored at the literal.  Anchored with ``$``, it also
    matched a part ending just before a line break, so the test held of two lines
    together but of neither: the claim that lets Known.after carry it was false."""
    import secretkit.scan.vendor_filter  # noqa: F401  (registers the vendor tests)
    from secretkit.scan.match_starts import _LINE_TESTS

    texts = [
        "a\nM" + "Ab1" * 8 + "\n.abcdef." + "x" * 27 + "\nz",
        "a\n" + "ab01" * 8 + "\n-us3\nz",
    ]
    for text in texts:
        for key, test in _LINE_TESTS.items():
            assert test(text) == any(test(line) for line in text.split("\n")), key


def test_substrings_asked_of_a_remembered_text_answer_as_in_does() -> None:
    """After a few needles a remembered text answers from its distinct runs between
    white space (``_Remembered.holds``): for every needle, with or without white space
    (Unicode's too), in the text and in its lower-cased form, the answer is ``in``'s."""
    from secretkit.scan.match_starts import _RUNS_AFTER, may_hold, remembering

    rng = random.Random(11)
    pieces = ["pass", "word", "PASS", "ENC[", "-P", "://", "a b", "\u00a0", "\u2028", "\x1c"]
    pieces += [" ", "\n", "\t", "\u0130", "\u03a3", "x", "=", "K", "\u212a", "\u017f"]
    needles = ["password", "pass", "-P", "://", "a b", "b\u00a0c", "ENC[", "word\npass", "k"]
    needles += ["a\x1cb", "ss", "rd-", "\u00a0", "s\u2028x", "i", "kk", "pass:", "ENC[-P"]
    words = ["password", "pass", "k", "i", "word", "enc[", "s", "ss"]
    indexed = 0
    for _ in range(400):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(60, 400)))
        order = rng.sample(needles, len(needles))
        with remembering(text):
            for i, needle in enumerate(order):
                assert contains(text, needle) == (needle in text), (text, needle)
                indexed += i >= _RUNS_AFTER and len(text) >= 256
            for word in rng.sample(words, len(words)):
                assert may_hold(text, word) == (word in text.lower()), (text, word)
    assert indexed > 1000  # (the runs were asked, not only the text)
