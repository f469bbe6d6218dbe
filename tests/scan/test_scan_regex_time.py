"""No pattern of the scanner backtracks without end: every regular expression the
scanner, the Nix reader and the planner compile at module level is run on long runs of
one kind of character ended by one that breaks the match (where a pattern that can
read a run in many ways tries every way: 32 digits and "=" once took minutes in a
commit message).  The patterns run in a child process, so a runaway one fails the test
by name instead of hanging the suite."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROBE = r"""
import importlib, json, pkgutil, re, sys, time
import secretkit
from secretkit import lazy_re

for package in ("secretkit.scan", "secretkit.nix", "secretkit.plan", "secretkit.gate"):
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        importlib.import_module(info.name)
patterns = {}
for made in lazy_re._MADE:
    patterns[(made._source, made._flags)] = None
for name, module in list(sys.modules.items()):
    if name.startswith("secretkit"):
        for value in vars(module).values():
            if isinstance(value, re.Pattern):
                patterns[(value.pattern, value.flags)] = None
RUNS = ["1", "a", "A", "aB3", "ab", "a1", "_", "-", ".", " ", "\t", "=", "/", "a ", "1 ",
        "a-", "a.", "x=", ":", ",", "$", "{", "'", '"', "\\", "pass", "key ", "0x"]
TAILS = ["", "!", "=", "\n", "]", "\x00", "\u00e9"]
N = 32
slow = []
print(len(patterns), flush=True)
for i, (source, flags) in enumerate(patterns):
    pattern = re.compile(source, flags)
    print(repr(source)[:100], flush=True)
    for run in RUNS:
        for tail in TAILS:
            text = run * (N // len(run)) + tail
            data = text if isinstance(source, str) else text.encode("utf-8")
            started = time.perf_counter()
            pattern.search(data)
            pattern.fullmatch(data)
            spent = time.perf_counter() - started
            if spent > 0.25:
                slow.append([repr(source)[:120], repr(text)[:60], round(spent, 2)])
print("SLOW " + json.dumps(slow), flush=True)
"""


def test_no_pattern_backtracks_without_end() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        lines = out.splitlines()
        raise AssertionError(f"still running after 120 s: {lines[-1]}")
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert int(lines[0]) > 100  # every module's patterns were gathered
    slow = json.loads(lines[-1].removeprefix("SLOW "))
    assert slow == [], slow
