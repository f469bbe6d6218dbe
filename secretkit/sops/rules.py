"""Which values get encrypted: sops' ``shouldBeEncrypted`` and Go RE2 regexes.

Go's ``regexp`` (RE2) and Python's ``re`` agree on the common syntax; constructs
that differ or that RE2 rejects are refused with a clear error instead of being
matched differently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from secretkit.errors import UserError
from secretkit.lazy_re import lazy
from secretkit.sops.metadata import DEFAULT_UNENCRYPTED_SUFFIX, CryptRule

_UNSUPPORTED = (
    (lazy(r"\(\?[=!]|\(\?<[=!]"), "look-around assertions are not supported by Go's RE2"),
    (lazy(r"\\[1-9]"), "back-references are not supported by Go's RE2"),
    (lazy(r"\\[pP]"), "Unicode classes (\\p{..}) cannot be translated"),
    (lazy(r"\[\[:\^?[a-z]+:\]"), "POSIX classes ([[:alpha:]]) cannot be translated"),
    (lazy(r"\(\?[a-zA-Z]*U"), "the (?U) flag cannot be translated"),
    (lazy(r"\\[Z]"), "\\Z is not supported by Go's RE2 (use \\z)"),
    (lazy(r"\(\?>"), "atomic groups are not supported by Go's RE2"),
    (lazy(r"[*+?}]\+"), "possessive quantifiers are not supported by Go's RE2"),
    (lazy(r"\\[CGX]"), "this escape is not supported by Go's RE2"),
)


@lru_cache(maxsize=64)
def compile_go_regex(pattern: str, name: str = "regex") -> re.Pattern[str]:
    """Translate a Go RE2 pattern to Python ``re``; UserError when it cannot be."""
    unescaped = re.sub(r"\\\\", "", pattern)
    for check, reason in _UNSUPPORTED:
        if check.search(unescaped):
            raise UserError(
                f"unsupported regular expression in {name}: {reason}",
                hint="use plain RE2 syntax that Python's re also understands",
            )
    translated = re.sub(r"(?<!\\)((?:\\\\)*)\\z", r"\1\\Z", pattern)
    translated = translated.replace("(?P<", "(?P<")
    try:
        return re.compile(translated)
    except re.error as exc:
        raise UserError(
            f"invalid regular expression in {name}: {exc.msg} at position {exc.pos}",
            hint="check the regex syntax (Go RE2)",
        ) from None


@dataclass(frozen=True)
class Rule:
    """A compiled crypt rule (``None`` metadata rule = the default ``_unencrypted`` suffix)."""

    kind: str
    value: str

    @classmethod
    def of(cls, rule: CryptRule | None) -> Rule:
        if rule is None:
            return cls("unencrypted_suffix", DEFAULT_UNENCRYPTED_SUFFIX)
        if rule.kind.endswith("_regex"):
            compile_go_regex(rule.value, rule.kind)
        return cls(rule.kind, rule.value)

    def _match(self, text: str) -> bool:
        return compile_go_regex(self.value, self.kind).search(text) is not None

    def should_encrypt(
        self, path: tuple[str, ...], stack: list[list[str]], is_comment: bool
    ) -> bool:
        kind, value = self.kind, self.value
        if kind == "unencrypted_suffix":
            return not (value and any(key.endswith(value) for key in path))
        if kind == "encrypted_suffix":
            return any(key.endswith(value) for key in path) if value else True
        if kind == "unencrypted_regex":
            return not any(self._match(key) for key in path)
        if kind == "encrypted_regex":
            return any(self._match(key) for key in path)
        if kind == "unencrypted_comment_regex":
            return not any(self._match(c) for level in stack for c in level)
        if kind == "encrypted_comment_regex":
            last_level = len(stack) - 1
            last_index = len(stack[-1]) - 1 if stack else -1
            for i, level in enumerate(stack):
                for j, comment in enumerate(level):
                    if is_comment and i == last_level and j == last_index:
                        continue
                    if self._match(comment):
                        return True
            return False
        raise UserError(f"unknown crypt rule {kind}")
