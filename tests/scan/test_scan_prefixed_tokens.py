"""prefixed_tokens.py: one search of a text for every prefix says what asking for each
would say, its answer carried from one version of a text to the next finds a token a
later version adds (and not one it removed), and each format starts at its prefix."""

from __future__ import annotations

import random
import re

import pytest

from secretkit.scan import prefixed_tokens
from secretkit.scan.one_file import scan_bytes
from secretkit.scan.prefixed_tokens import _ANY, _GATES, _HEADS, FORMATS
from secretkit.scan.versions import Versions
from tests.scan.test_scan_rules import PREFIXED_FAMILY

_PIECES = [
    *_HEADS, *(h[:-1] for h in _HEADS), *(h[1:] for h in _HEADS), "_", ".", "-", "~", "\n",
    " ", "x", "pul", "PMAK", "dp.pt", "sha256", "v1.0", "atlasv1.", ".atlasv1", "fm1", "shp",
    "\u00e9", "a_b", "1.0-", "HRKU-AA",
]  # fmt: skip


def _gate(text: str) -> bool:
    return any(gate.search(text) is not None for gate in _GATES)


@pytest.mark.parametrize("seed", range(40))
def test_the_gate_says_what_asking_for_each_prefix_says(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(200):
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 12)))
        assert _gate(text) == any(h in text for h in _HEADS), text


def test_the_gate_holds_of_a_text_exactly_when_of_one_of_its_lines() -> None:
    """The premise of carrying its answer (match_starts.line_test)."""
    rng = random.Random(7)
    for _ in range(500):
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 16)))
        lines = text.split("\n")
        assert _gate(text) == any(_gate(line) for line in lines)


@pytest.mark.parametrize("name", list(FORMATS))
def test_each_format_starts_at_its_prefix(name: str) -> None:
    fmt = FORMATS[name]
    literal = re.sub(r"^\(\?<!\[[^\]]*\]\)", "", fmt.pattern.pattern)
    if fmt.back:  # (Terraform Cloud's: 14 characters before the literal)
        assert literal.startswith(r"[A-Za-z0-9]{14}\.atlasv1\.")
        return
    assert literal.replace("\\", "").startswith(fmt.prefix), literal


def _history(versions: list[str], path: str = "config/app.yaml") -> list[list[str]]:
    carried = Versions()
    out = []
    for text in versions:
        found, _ = scan_bytes(path, text.encode(), versions=carried)
        out.append(sorted(f.rule for f in found))
    return out


@pytest.mark.parametrize(("rule", "build", "_placeholder"), PREFIXED_FAMILY)
def test_a_token_a_later_version_adds_is_found_and_one_it_removes_is_gone(
    rule: str, build: object, _placeholder: object
) -> None:
    """The gate's answer for one version is carried to the next (only changed lines
    are asked): a token added in the middle of a large text is found, and the version
    that removes it again has none."""
    assert callable(build)
    filler = "".join(f"  setting_{i}: value number {i}\n" for i in range(40))
    head = "settings:\n" + filler
    with_token = head + f"  upstream: {build()}\n" + filler.replace("setting_", "other_")
    without = head + filler.replace("setting_", "other_")
    assert _history([without, with_token, without]) == [[], [rule], []]


def test_a_text_without_any_prefix_is_not_searched_further(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only the gate (and the two bare prefixes) is asked of a text holding no prefix:
    no format's own pattern is tried."""
    tried: list[str] = []
    original = prefixed_tokens.matches_at

    def spy(pattern: re.Pattern[str], text: str, starts: object) -> object:
        tried.append(pattern.pattern)
        return original(pattern, text, starts)  # type: ignore[arg-type]

    monkeypatch.setattr(prefixed_tokens, "matches_at", spy)
    detector = prefixed_tokens.PrefixedTokens()
    from secretkit.scan.detector_types import Context

    text = "services.nginx.virtualHosts.example.locations./.proxyPass = http://a:80;\n" * 20
    assert list(detector.find(text, Context())) == []
    assert tried == []
    assert not _ANY(text)
