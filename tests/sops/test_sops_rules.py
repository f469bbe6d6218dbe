"""Crypt rules: sops' shouldBeEncrypted, Go RE2 → Python re translation."""

from __future__ import annotations

import pytest

from secretkit.errors import UserError
from secretkit.sops.metadata import CryptRule
from secretkit.sops.rules import Rule, compile_go_regex


def test_default_rule_is_the_unencrypted_suffix() -> None:
    rule = Rule.of(None)
    assert not rule.should_encrypt(("a_unencrypted", "b"), [[]], False)
    assert rule.should_encrypt(("a", "b"), [[]], False)


def test_regexes_are_unanchored_searches() -> None:
    rule = Rule.of(CryptRule("encrypted_regex", "pass"))
    assert rule.should_encrypt(("db", "my_password"), [[]], False)
    assert not rule.should_encrypt(("db", "user"), [[]], False)


def test_encrypted_comment_regex_skips_the_matching_comment_itself() -> None:
    rule = Rule.of(CryptRule("encrypted_comment_regex", "^enc$"))
    assert not rule.should_encrypt((), [["enc"]], True)
    assert rule.should_encrypt((), [["enc", "next"]], True)
    assert rule.should_encrypt(("k",), [["enc"]], False)
    assert rule.should_encrypt(
        ("a", "k"), [["enc"], []], False
    )  # an outer comment covers the block


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(?=x)", "look-around"), ("(?<!x)y", "look-around"), (r"(a)\1", "back-references"),
        (r"\pL", "Unicode classes"), ("[[:alpha:]]", "POSIX classes"), ("(?U)a+", "(?U)"),
        (r"a\Z", r"\Z"), ("a++", "possessive"),
    ],
)  # fmt: skip
def test_untranslatable_regexes_are_refused(pattern: str, reason: str) -> None:
    with pytest.raises(UserError) as info:
        compile_go_regex(pattern, "r")
    assert info.value.message.startswith("unsupported regular expression in r: ")
    assert reason in info.value.message


def test_re2_end_of_text_is_translated() -> None:
    assert compile_go_regex(r"^a\z").search("a")
    assert not compile_go_regex(r"^a\z").search("a\n")
    assert compile_go_regex(r"(?i)^(data|stringData)$").search("DATA")
    assert compile_go_regex(r"(?P<name>x)").search("x")
