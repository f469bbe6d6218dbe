"""lazy_re.py: a pattern compiled at its first use behaves as ``re.compile``'s, and
every lazy pattern in the package compiles (a typo must not wait for a rare input)."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import secretkit
from secretkit.lazy_re import _Lazy, lazy


def test_behaves_as_the_compiled_pattern() -> None:
    source = r"(?P<name>[a-z]+)=(\d+)"
    pattern = lazy(source, re.IGNORECASE)
    compiled = re.compile(source, re.IGNORECASE)
    text = "A=1 bb=22 c"
    assert [m.span() for m in pattern.finditer(text)] == [m.span() for m in compiled.finditer(text)]
    assert pattern.search(text, 2).group("name") == "bb"  # type: ignore[union-attr]
    assert pattern.match(text) is not None and pattern.fullmatch(text) is None
    assert pattern.sub("x", text) == compiled.sub("x", text)
    assert pattern.findall(text) == [("A", "1"), ("bb", "22")]
    assert (pattern.pattern, pattern.flags, pattern.groups) == (
        source,
        compiled.flags,
        2,
    )
    assert dict(pattern.groupindex) == {"name": 1}
    assert lazy(rb"\d+").findall(b"a12b3") == [b"12", b"3"]


def test_compiles_once_then_lends_the_compiled_methods() -> None:
    pattern = lazy(r"ab+")
    assert "search" not in vars(pattern)  # nothing compiled at creation
    assert pattern.search("xabb") is not None
    held = vars(pattern)["search"]
    assert held.__self__ is re.compile(r"ab+")  # the compiled pattern's bound method
    assert pattern.search is held  # later calls go straight to it


def test_an_invalid_pattern_fails_at_its_first_use_and_unknown_names_fail() -> None:
    pattern = lazy(r"(unclosed")
    with pytest.raises(re.error):
        pattern.search("x")
    with pytest.raises(AttributeError):
        lazy("a").no_such_method  # type: ignore[attr-defined]
    assert "lazy('a')" == repr(lazy("a"))


def test_every_lazy_pattern_in_the_package_compiles() -> None:
    package = Path(secretkit.__file__).parent
    users = [
        path.relative_to(package.parent).with_suffix("").as_posix().replace("/", ".")
        for path in sorted(package.rglob("*.py"))
        if "from secretkit.lazy_re import lazy" in path.read_text(encoding="utf-8")
    ]
    found = 0
    for name in users:
        for attribute, value in vars(importlib.import_module(name)).items():
            if isinstance(value, _Lazy):
                found += 1
                assert value.pattern is not None, f"{name}.{attribute}"
    assert found >= 35  # the detectors' and the Nix positions' patterns at least


def test_the_scanner_compiles_few_patterns_at_import() -> None:
    """The hook's start-up: importing the scanner leaves the command detector's
    patterns uncompiled (they cost ~0.1 ms each)."""
    code = (
        "import secretkit.scan.staged, secretkit.scan.command_detectors as d\n"
        "print(sum('search' not in vars(v) for v in vars(d).values()"
        " if type(v).__name__ == '_Lazy'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) >= 20


def test_compile_all_compiles_every_pattern_made_so_far() -> None:
    """What a process pool calls before it forks: the workers inherit them compiled."""
    from secretkit.lazy_re import _MADE, compile_all

    made = lazy(r"compile-all-\d+")
    assert "search" not in vars(made)
    compile_all()
    assert made in _MADE
    broken = [p for p in _MADE if p._source == "(unclosed"]  # (an earlier test's)
    assert all("search" in vars(p) for p in _MADE if p not in broken)
    assert made.fullmatch("compile-all-42") is not None
