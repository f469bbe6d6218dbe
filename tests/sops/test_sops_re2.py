"""path_regex means what it means to sops (Go RE2): POSIX classes, \\z, named groups in
both spellings, ASCII classes, `$` at the end of text only; what Python cannot express
is an error everywhere (engine, keys/sops_yaml, the hook), never a silent non-match."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.errors import ConfigError
from secretkit.keys import sops_yaml
from secretkit.sops.config import might_name_secrets_files, parse_config, path_regex_matches
from secretkit.sops.re2 import Re2Error, compile_re2

MATCHES = [
    ("^secrets/[[:alpha:]]+\\.yaml$", "secrets/web.yaml", True),
    ("^secrets/[[:alpha:]]+\\.yaml$", "secrets/web1.yaml", False),
    ("^secrets/[[:alnum:]_-]+\\.yaml$", "secrets/web-1_a.yaml", True),
    ("^h[[:digit:]]{2}$", "h42", True),
    ("[[:upper:]]", "abc", False),
    ("^x[^[:space:]]y$", "x_y", True),
    ("\\.yaml\\z", "a.yaml", True),
    ("\\.yaml\\z", "a.yaml\n", False),
    ("\\.yaml$", "a.yaml\n", False),  # Python's $ would match before the newline
    ("^(?P<host>[a-z]+)\\.yaml$", "web.yaml", True),
    ("^(?<host>[a-z]+)\\.yaml$", "web.yaml", True),  # Go 1.22 spelling
    ("^\\d+$", "١٢", False),  # RE2 \d is ASCII only
    ("^\\w+$", "héllo", False),
    ("a{,2}", "a{,2}", True),  # RE2: not a repetition, a literal
    ("^\\Qa.b\\E$", "a.b", True),
    ("^\\Qa.b\\E$", "axb", False),
    ("(?i)^SECRETS/", "secrets/x.yaml", True),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), MATCHES)
def test_re2_meaning(pattern: str, path: str, expected: bool) -> None:
    assert bool(compile_re2(pattern).search(path)) is expected


UNUSABLE = [
    ("\\pL+", "Unicode classes \\p{…} are not supported"),
    ("(?U)a+", "the ungreedy flag (?U) has no Python equivalent"),
    ("a(?=b)", "look-arounds, comments and back-references are not RE2"),
    ("(a)\\1", "back-references are not supported by RE2"),
    ("[[:nope:]]", "unknown POSIX class [:nope:]"),
    ("a(?i)b", "flags (?…) after the start of the pattern are not supported"),
    ("x{1001}", "repetition count over 1000"),
    ("(", "missing ), unterminated subpattern"),
]


@pytest.mark.parametrize(("pattern", "reason"), UNUSABLE)
def test_untranslatable_patterns_are_errors_everywhere(
    pattern: str, reason: str, tmp_path: Path
) -> None:
    with pytest.raises(Re2Error) as info:
        compile_re2(pattern)
    assert str(info.value) == reason
    config = f"creation_rules:\n  - path_regex: '{pattern}'\n    age: age1x\n".encode()
    with pytest.raises(ConfigError) as engine:
        parse_config(config, tmp_path / ".sops.yaml")
    assert engine.value.message.endswith(
        f"rule 1: path_regex is not a valid regular expression ({reason})"
    )
    with pytest.raises(ConfigError):
        path_regex_matches(pattern, "secrets/x.yaml")
    rule = sops_yaml.Rule(index=0, path_regex=pattern, groups=(), anchors=())
    with pytest.raises(ConfigError):
        rule.matches("secrets/x.yaml")
    # the hook's quick pre-check leaves such a file to the real parser (never "no rule")
    assert might_name_secrets_files(config, ["secrets/x.yaml"]) is True


def test_hook_precheck_reads_posix_classes() -> None:
    config = b"creation_rules:\n  - path_regex: ^secrets/[[:alpha:]]+\\.yaml$\n"
    assert might_name_secrets_files(config, ["secrets/web.yaml"]) is True
    assert might_name_secrets_files(config, ["notes/web.yaml"]) is False
