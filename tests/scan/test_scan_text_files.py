"""The fast paths of the non-Nix reader give exactly what the plain forms give.

JSON pairs are read only on the lines holding a secret-ish word; the quoted-pair
reader and the command, private-key and vendor pre-filters ask the lower-cased text
being scanned (:func:`secretkit.scan.match_starts.remembering`) before they scan for
an exact spelling.  Each is held to its plain form over texts generated at run time:
odd lines, CRLF, no final line break, escaped quotes and the characters
``re.IGNORECASE`` or ``str.lower`` treat specially ("\u0130", "\u0131", "\u017f", the
Kelvin sign).
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Iterator

import pytest

from secretkit.scan import text_files
from secretkit.scan.detectors import DETECTORS, Context, vendor_rules
from secretkit.scan.match_starts import lines_with, may_hold, remembering
from tests.support import fake

_ALNUM = string.ascii_letters + string.digits
_KEYS = [
    "password", "PASSWORD", "dbPass", "api_token", "ToKeN", "secret", "clientSecret",
    "key", "KEY", "apiKey", "cred", "psk", "auth", "pw", "PW", "name", "user", "value",
    "pa\u017fs", "\u212aey", "api\u212aey", "\u0130token", "to\u0130ken", "\u0131d", "p\u0130w",
    "caf\u00e9", "x\\\"key", "k\\\\ey", "pass\\nword", "",
]  # fmt: skip
_PIECES = [
    '"', '": "', '":"', '" : "', '"\t:\t"', "\\\"", "\\\\", "\n", "\r\n", "\n\n", " ", "\t",
    ",", "{", "}", "[", "]", ":", "=", " = ", ": ", "'", "$", "-", "_", "\u2028", "\u0085",
    "\U0001f600", "\u00e9", "\u0130", "\u0131", "\u017f", "\u212a", "password", "Token",
    "SECRET", "key", "pw", "echo ", "PASSWORD ", "identified by ", "IDENTIFIED BY ",
    "DB_PASS=", "API_KEY=", "X_TOKEN=", "-----BEGIN", "-----begin", "AWS", "aws", "tskey-",
    "_authToken", "_AUTHTOKEN", "AccountKey=", "accountkey=", "AGE-SECRET-KEY-1", "ENC[",
    " --pa\u017f\u017fword=", " --api\u212aey ", " -psk=", " --TOKEN ", " --auth-key=",
]  # fmt: skip


def _word(rng: random.Random, high: int) -> str:
    return "".join(rng.choice(_ALNUM) for _ in range(rng.randint(0, high)))


def _armor(edge: str) -> str:
    return "-" * 5 + f"{edge} OPENSSH " + "PRIVATE KEY" + "-" * 5  # (never whole in this file)


def _token(rng: random.Random) -> str:
    """A token-shaped piece (made here, never a literal in the test)."""
    upper = string.ascii_uppercase + string.digits
    return rng.choice(
        [
            "AKIA" + "".join(rng.choice(upper) for _ in range(16)),
            "".join(rng.choice(_ALNUM) for _ in range(40)) + rng.choice("\"'"),
            "gh" + rng.choice("pos") + "_" + "".join(rng.choice(_ALNUM) for _ in range(36)),
            f"tskey-{_word(rng, 9)}x-{''.join(rng.choice(_ALNUM) for _ in range(18))}",
            _armor("BEGIN")
            + "\n"
            + "".join(rng.choice(_ALNUM) for _ in range(48))
            + "\n"
            + _armor("END"),
        ]
    )


def _piece(rng: random.Random) -> str:
    kind = rng.randrange(5)
    if kind == 4:
        return _token(rng)
    if kind == 0:
        key = rng.choice(_KEYS)
        sep = rng.choice(['": "', '":"', '" :\t"', '": ', '" = "', "': '"])
        indent = rng.choice(["", "  ", "- "])
        return f'{indent}"{key}{sep}{_word(rng, 12)}"' + rng.choice([",", "", "\n", "\r\n"])
    if kind == 1:
        key = rng.choice(_KEYS)
        quote = rng.choice("\"'")
        return f"{key}{rng.choice([' = ', ': ', '=', ':=', ' => '])}{quote}{_word(rng, 9)}{quote}"
    if kind == 2:
        return _word(rng, 8)
    return rng.choice(_PIECES)


def _texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(_piece(rng) for _ in range(rng.randint(1, 40))) for _ in range(count)]


_TEXTS = _texts(15, 3000)


def _json_plain(text: str) -> Iterator[tuple[str, int, int]]:
    """JSON pairs as read before the line filter: one finditer over the whole text."""
    for m in text_files._JSON_PAIR.finditer(text):
        key = m.group(1)
        generic = text_files._VALUE_KEY.fullmatch(key)
        if generic is not None:  # a value key is named by its object (or its first words)
            key = generic.group(1) or text_files._json_parent(text, m.start(2))
        if text_files._SECRETISH_KEY.search(key):
            yield key, m.start(2), m.end(2)


def _quoted_plain(text: str) -> Iterator[tuple[str, int, int]]:
    """Quoted pairs as read before: the key's run found character by character."""
    lowered = text_files._lowered_in_place(text)
    seen: set[int] = set()
    for word in text_files._SECRETISH_WORDS:
        pos = lowered.find(word)
        while pos != -1:
            end = pos + len(word)
            while end < len(text) and text[end] in text_files._IDENT_CHARS:
                end += 1
            start = pos
            while start > 0 and text[start - 1] in text_files._IDENT_CHARS:
                start -= 1
            if end not in seen:
                seen.add(end)
                m = text_files._AFTER_KEY.match(text, end)
                if m and start < end and (text[start].isalpha() or text[start] == "_"):
                    group = "dq" if m.group("dq") is not None else "sq"
                    yield text[start:end], m.start(group), m.end(group)
            pos = lowered.find(word, end)


def _lines(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    for line in text.split("\n"):
        yield start, start + len(line)
        start += len(line) + 1


def test_lines_with_holds_every_line_the_ignorecase_regex_matches() -> None:
    words = text_files._SECRETISH_WORDS
    regex = re.compile("|".join(words), re.IGNORECASE)
    answered = matched = 0
    for text in _TEXTS:
        lines = lines_with(text, words)
        if lines is None:
            continue
        answered += 1
        assert lines == sorted(set(lines))
        assert all(span in set(_lines(text)) for span in lines)
        wanted = [span for span in _lines(text) if regex.search(text, *span)]
        matched += bool(wanted)
        assert set(wanted) <= set(lines), text
    assert answered >= 500 and matched >= 300


def test_a_plain_lower_case_line_test_would_miss_folded_letters() -> None:
    """The generated texts do hold what a naive ``word in line.lower()`` misses
    (re matches "\u017f" to s), so the test above can fail."""
    regex = text_files._SECRETISH_KEY
    missed = 0
    for text in _TEXTS:
        for start, end in _lines(text):
            line = text[start:end]
            naive = any(w in line.lower() for w in text_files._SECRETISH_WORDS)
            missed += bool(regex.search(line)) and not naive
    assert missed > 0


@pytest.mark.parametrize("remember", [False, True])
def test_json_pairs_equal_one_finditer_over_the_text(remember: bool) -> None:
    found = 0
    for text in _TEXTS:
        plain = list(_json_plain(text))
        if remember:
            with remembering(text):
                fast = list(text_files._pairs(text, "json"))
        else:
            fast = list(text_files._pairs(text, "json"))
        assert fast == plain, text
        found += bool(plain)
    assert found >= 500


@pytest.mark.parametrize("remember", [False, True])
def test_quoted_pairs_equal_the_character_by_character_reader(remember: bool) -> None:
    found = 0
    for text in _TEXTS:
        plain = list(_quoted_plain(text))
        if remember:
            with remembering(text):
                fast = list(text_files._quoted_pairs(text))
        else:
            fast = list(text_files._quoted_pairs(text))
        assert fast == plain, text
        found += bool(plain)
    assert found >= 500


def test_may_hold_answers_for_the_remembered_text_only() -> None:
    text = "x" * 300 + "Pa\u017fs \u212aEY T\u0130KEN" + "\r\n"
    assert may_hold(text, "absent")  # a large text not remembered: always "maybe"
    with remembering(text):
        for word in ("absent", "key", "pass", "pa\u017fs", "ti\u0307ken", "x\r"):
            assert may_hold(text, word) == (word in text.lower())
        assert may_hold(text + "", "absent") is (text + "" is not text)
    assert may_hold(text, "absent")  # forgotten on leaving


def test_may_hold_asks_a_small_text_at_once() -> None:
    text = "x" * 10 + "Pa\u017fs \u212aEY T\u0130KEN" + "\r\n"
    for word in ("absent", "key", "pass", "pa\u017fs", "ti\u0307ken", "x\r"):
        assert may_hold(text, word) == (word in text.lower())


def test_pre_filters_answer_alike_with_and_without_the_remembered_text() -> None:
    """The command, private-key, token and vendor pre-filters ask the remembered
    lower-cased text first; their results do not change."""
    rng = random.Random(3)
    texts = _TEXTS[:1500] + [
        "\n".join(rng.sample(_TEXTS, 30)) for _ in range(60)
    ]  # some large texts
    ctx = Context(("",))
    fired: set[str] = set()
    for text in texts:
        plain = {name: list(d.find(text, ctx)) for name, d in DETECTORS.items()}
        rules = vendor_rules(text)
        with remembering(text):
            assert {name: list(d.find(text, ctx)) for name, d in DETECTORS.items()} == plain
            assert vendor_rules(text) == rules
            hits = text_files.scan_text(text, "x.txt")
        assert text_files.scan_text(text, "x.txt") == hits
        fired |= {name for name, found in plain.items() if found} | rules
    assert {
        "command-secret", "private-key", "tailscale-auth-key", "aws-access-key", "npm-token"
    } <= fired  # fmt: skip


# The pair regexes as first written (lazy); the greedy ones must match alike.
_YAML_LAZY = re.compile(
    r"^[ \t]*(?:#+[ \t]*)?(?:-[ \t]+)?(?:\"(?P<dq>[^\"]+)\"|'(?P<sq>[^']+)'"
    r"|(?P<bare>[^\s\"'#:{}\[\],&*!|>%@`-]"
    r"[^:#\n]*?))"  # (a key on one line: a comment line above it is not part of it)
    r"[ \t]*:[ \t]+(?P<value>\S.*?)[ \t]*$",
    re.MULTILINE,
)
_ASSIGN_LAZY = re.compile(
    r"^[ \t]*(?:(?:#+|;+|//)[ \t]*)?(?:export[ \t]+)?"
    r"(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*|\"[^\"]+\")[ \t]*[=:][ \t]*"
    r"(?P<value>.*?)[ \t]*$",
    re.MULTILINE,
)
_LINE_PIECES = [
    "key", "db password", "\"quoted key\"", "'single'", "\"open", "'open", "- ", "  ", "\t",
    ": ", ":", " :", ":\t", "\t: ", "=", " = ", "export ", "#", " # c", "\n", "\r\n", "\r",
    " ", "  \t", "value", "v a l", "|", ">", "&a", "*a", "!tag", "{", "[", "-", "x-y.z",
    "\u00a0", "\u2028", "\u0085", "\x0b", "\x0c", "\u00e9", "\"", "'", "a:b", "http://h:1",
]  # fmt: skip


def _line_texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return [
        "".join(rng.choice(_LINE_PIECES) for _ in range(rng.randint(1, 30))) for _ in range(count)
    ]


@pytest.mark.parametrize(
    ("fast", "lazy"),
    [(text_files._YAML_PAIR, _YAML_LAZY), (text_files._ASSIGN, _ASSIGN_LAZY)],
    ids=["yaml", "assign"],
)
def test_greedy_pair_regexes_match_as_the_lazy_ones(
    fast: re.Pattern[str], lazy: re.Pattern[str]
) -> None:
    def found(pattern: re.Pattern[str], text: str) -> list[object]:
        names = sorted(pattern.groupindex)
        return [(m.span(), [m.span(n) for n in names]) for m in pattern.finditer(text)]

    texts = _line_texts(9, 6000) + _TEXTS
    matched = sum(1 for text in texts if lazy.search(text))
    assert matched >= 1000
    assert [text for text in texts if found(fast, text) != found(lazy, text)] == []


def test_every_flag_name_holds_a_flag_word() -> None:
    """The command detector skips its flag regex when no flag word is in the text."""
    from secretkit.scan import command_detectors as detectors

    names = re.search(r"\(\?P<flag>([^)]*)\)", detectors._FLAG_SECRET.pattern)
    assert names is not None
    for name in names.group(1).split("|"):
        for spelled in {name.replace("-?", ""), name.replace("-?", "-")}:
            assert any(w in spelled for w in detectors._FLAG_WORDS), spelled


@pytest.mark.parametrize("flag", ["--pa\u017f\u017fword=", "--api\u212aey=", "--PSK "])
def test_flags_spelled_with_case_folds_are_found_in_the_remembered_text(flag: str) -> None:
    """re reads "\u017f" as s and the Kelvin sign as k; lower() keeps "\u017f": the
    flag gate must not skip such a text."""
    rng = random.Random(flag)
    value = "".join(rng.choice(_ALNUM) for _ in range(12))
    text = f"run {flag}{value} now\n"
    detector = DETECTORS["command-secret"]
    plain = list(detector.find(text, Context(("",))))
    with remembering(text):
        assert list(detector.find(text, Context(("",)))) == plain
    assert [text[m.start : m.end] for m in plain] == [value]


def test_yaml_pairs_found_from_line_breaks_match_as_the_lazy_regex() -> None:
    """After the first line, YAML pairs are looked for from each "\\n" on: the same
    matches as one ``finditer`` of the lazy regex, with long blanked-out values too."""
    names = ("dq", "sq", "bare", "value")
    texts = _line_texts(11, 6000) + _TEXTS
    texts += ["\n" + text for text in texts[:500]] + ["", "\n", "a: b", "a: b\n", "\n\na: b"]
    texts += [f"k{i}: {' ' * 300}\n  x:  {' ' * 50}\n" for i in range(3)]
    for text in texts:
        fast = [[m.span(n) for n in names] for m in text_files._yaml_pairs(text)]
        lazy = [[m.span(n) for n in names] for m in _YAML_LAZY.finditer(text)]
        assert fast == lazy, text


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_json_value_key_is_named_by_its_object(newline: str) -> None:
    """libation's AccountsSettings.json (ajaxbits/config's history) keeps its tokens as
    "RefreshToken": { "Value": … } and "TokenValue": only the private key was found, so
    purge would have left the refresh token in the rewritten history."""
    from secretkit.scan.text_files import scan_text

    token = fake.chars(fake._ALNUM, 48, "refresh")
    access = fake.chars(fake._ALNUM, 48, "access")
    text = newline.join(
        [
            "{",
            '  "ExistingAccessToken": {',
            f'    "TokenValue": "Atna|{access}",',
            '    "Expires": "2023-04-05T01:41:39Z"',
            "  },",
            '  "RefreshToken": {',
            f'    "Value": "Atnr|{token}"',
            "  },",
            '  "Settings": {',
            f'    "Value": "{fake.chars(fake._ALNUM, 40, "not")}"',
            "  }",
            "}",
        ]
    )
    found = {text[h.start : h.end] for h in scan_text(text, "AccountsSettings.json")}
    assert found == {f"Atna|{access}", f"Atnr|{token}"}


def _short_texts() -> list[str]:
    """Texts under a few hundred characters, tokens among them: every value of the
    rule table alone and in its template, cut closer and closer to the value, and
    the generated texts."""
    from tests.scan.test_scan_rules import SHOULD_FLAG

    out = [text for text in _TEXTS if len(text) < 400]
    value = fake.chars(_ALNUM, 4, "short")  # a command's shortest value (command-secret)
    out += [f"TOKEN={value}", f"--psk={value}", f"--pass {value}", value]
    for _name, build, template, _rule in SHOULD_FLAG:
        value = build()
        whole = template.replace("@V@", value)
        out += [value, whole, value[1:], value[:-1]]
        at = whole.find(value)
        out += [whole[max(0, at - cut) : at + len(value) + cut] for cut in (1, 3, 8, 20)]
    return out


_CONTEXTS = [
    Context(()),
    Context(("services", "prometheus", "pushover_configs", "token")),
    Context(("syncthing", "apikey")),
    Context(("services", "foo", "serviceConfig", "ExecStart")),
    Context(("environment", "variables", "API_TOKEN")),
]


def test_no_detector_matches_in_a_text_shorter_than_its_shortest_match() -> None:
    """token_hits does not search a text shorter than a detector's ``shortest``: no
    text that short ever gives a match, and each detector does match in texts here."""
    fired: set[str] = set()
    for text in _short_texts():
        for ctx in _CONTEXTS:
            for name, detector in DETECTORS.items():
                if list(detector.find(text, ctx)):
                    assert len(text) >= detector.shortest, (name, len(text))
                    fired.add(name)
    assert fired == set(DETECTORS)
    assert all(d.shortest > 0 for d in DETECTORS.values())


def test_each_detectors_shortest_is_what_re_computes_of_its_pattern() -> None:
    from secretkit.scan import command_detectors
    from secretkit.scan.detector_types import shortest_match

    for name, detector in DETECTORS.items():
        pattern = getattr(detector, "pattern", None)
        if name == "url-credentials":
            pattern = command_detectors._URL_CREDS
        if pattern is not None:
            assert detector.shortest == shortest_match(pattern) > 0, name
    assert DETECTORS["command-secret"].shortest == command_detectors._SHORTEST


def test_no_vendor_pattern_matches_fewer_characters_than_shortest_vendor() -> None:
    from secretkit.scan.adapters.detect_secrets import patterns
    from secretkit.scan.detector_types import shortest_match
    from secretkit.scan.vendor_filter import SHORTEST_VENDOR

    widths = {pattern.pattern: shortest_match(pattern) for _rule, pattern in patterns()}
    assert widths and min(widths.values()) >= SHORTEST_VENDOR, widths


def test_short_texts_ask_one_search_for_the_vendor_tests_and_answer_alike(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """vendor_rules asks a short text one search for all anchors (and one for the
    regex tests) before asking about each; it answers what asking about each does."""
    from secretkit.scan import vendor_filter

    texts = _short_texts()
    quick = [vendor_rules(text) for text in texts]
    monkeypatch.setattr(vendor_filter, "_SHORT_TEXT", 0)  # every text asked about each test
    assert [vendor_rules(text) for text in texts] == quick
    assert {
        "aws-access-key", "github-token", "twilio-key", "discord-bot-token", "slack-token"
    } <= set().union(*quick)  # fmt: skip


@pytest.mark.parametrize(
    ("path", "template", "found"),
    [
        (".offlineimaprc", "[Repository r]\nremotepass = @V@\n", True),
        (".offlineimaprc", "[Repository r]\nlocalpass = @V@\n", True),
        ("sssd.conf", "[domain/x]\nldap_default_authtok = @V@\n", True),
        (".offlineimaprc", "[Repository r]\nremotepassfile = ~/.pw\n", False),
        (".offlineimaprc", "[Repository r]\nremotepasseval = get_pass('@V@')\n", False),
        ("sssd.conf", "[domain/x]\nldap_default_authtok_type = password\n", False),
    ],
)
def test_option_names_of_mail_and_directory_clients(path: str, template: str, found: bool) -> None:
    """offlineimap's ``remotepass``/``localpass`` and sssd's ``…_authtok`` hold the
    password itself; ``remotepassfile`` and ``…_authtok_type`` do not."""
    from secretkit.scan.one_file import scan_bytes

    value = fake.chars(string.ascii_letters + string.digits, 24, "mail-" + path)
    findings, _ = scan_bytes(path, template.replace("@V@", value).encode())
    assert [f.secret.reveal() for f in findings] == ([value] if found else [])


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("STRIPE_KEY={hex20}", "secret-key"),  # openssl rand -hex 20
        ("ENCRYPTION_KEY={hex32}", "secret-key"),  # openssl rand -hex 32
        ("CACHE_KEY={hex32}", None),  # a digest under a name that says so
        ("GPG_KEY={fpr}", None),  # a fingerprint, written in upper case
    ],
)
def test_a_generated_hex_value_under_a_key_name_in_a_dotenv_file(line: str, kind: str) -> None:
    from secretkit.scan.one_file import scan_bytes

    text = line.format(
        hex20=fake.hex_key(20, "env-hex20"),
        hex32=fake.hex_key(32, "env-hex32"),
        fpr=fake.hex_key(20, "env-fpr").upper(),
    )
    findings, _skipped = scan_bytes(".env", (text + "\n").encode())
    assert [f.kind for f in findings] == ([kind] if kind else [])
