"""``catalogue.lookup`` loads only the modules near a path and answers exactly as trying
every entry in order does: each route's heads cover every path its entry matches."""

from __future__ import annotations

import ast
import json
import random
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from secretkit.nix import catalogue
from secretkit.nix.catalogue import CATALOGUE, ROUTES, Entry, lookup
from tests.conftest import ROOT

PACKAGE = ROOT / "secretkit" / "nix" / "catalogue"
# Shared by the entries, not entries themselves.
HELPERS = {"__init__", "base", "envfile", "sibling", "secret_yaml", "password_hash"}


_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.|*[]")


def _strings(file: Path) -> set[str]:
    return {
        node.value
        for node in ast.walk(ast.parse(file.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def _words(strings: set[str]) -> set[str]:
    """The attribute names in ``strings``: parts of dotted patterns and plain names."""
    words = {w for s in strings if set(s) <= _OK for part in s.split(".") for w in part.split("|")}
    words |= {s for s in strings if s.isidentifier() and len(s) < 40}
    return words - {"*", "**", "[]", ""}


def _tails(file: Path) -> list[list[str]]:
    """Tuples of names the module writes (``("basic_auth", "password")``)."""
    return [
        [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        for node in ast.walk(ast.parse(file.read_text()))
        if isinstance(node, ast.Tuple) and node.elts
    ]


Source = tuple[list[str], list[str], list[list[str]]]


def _sources() -> list[Source]:
    """Per catalogue module: its pattern-like strings, the names it mentions and the
    tuples of names it writes."""
    out = []
    for file in sorted(PACKAGE.glob("*.py")):
        strings = _strings(file)
        patterns = sorted(
            s for s in strings if "." in s and set(s) <= _OK and not s.startswith(".")
        )
        if patterns:
            words = sorted(_words(strings) | {"email_configs", "[0]"})
            out.append((patterns, words, [t for t in _tails(file) if t] or [["x"]]))
    return out


def _expand(pattern: str, rng: random.Random, near: list[str], vocab: list[str]) -> list[str]:
    def word() -> str:
        return rng.choice(near if rng.random() < 0.7 else vocab)

    out: list[str] = []
    for part in pattern.split("."):
        if part == "**":
            out.extend(word() for _ in range(rng.randint(1, 3)))
        elif part == "*":
            out.append(rng.choice(["x", "[0]", word(), word()]))
        elif part == "[]":
            out.append(rng.choice(["[0]", "[1]", "x"]))
        else:
            out.append(rng.choice(part.split("|")))
    return out


def _paths(n: int) -> list[tuple[str, ...]]:
    """Paths made from every pattern-like string of the catalogue's modules (wildcards
    filled mostly with names the same module mentions), mutations of them (one
    segment fewer, one or a tuple of the module's more, one replaced) and free ones."""
    rng = random.Random(17)  # any seed whose paths reach every entry (asserted below)
    sources = _sources()
    vocab = sorted({w for _p, words, _t in sources for w in words} | {"x", "password"})
    paths: set[tuple[str, ...]] = set()
    while len(paths) < n:
        patterns, near, tails = rng.choice(sources)
        path = _expand(rng.choice(patterns), rng, near, vocab)
        roll = rng.random()
        if roll < 0.15 and len(path) > 1:
            path.pop()
        elif roll < 0.3:
            path.append(rng.choice(vocab))
        elif roll < 0.4:
            path.extend(rng.choice(tails))
        elif roll < 0.5:
            path[rng.randrange(len(path))] = rng.choice(vocab)
        elif roll < 0.55:
            path = [rng.choice(vocab) for _ in range(rng.randint(1, 6))]
        paths.add(tuple(path))
    return sorted(paths)


def _every_entry_in_order(path: Sequence[str]) -> Entry | None:
    return next((e for e in CATALOGUE.values() if e.matches(path)), None)


def test_every_module_of_an_entry_has_a_route_and_every_route_an_entry() -> None:
    modules = {p.stem for p in PACKAGE.glob("*.py")} - HELPERS
    assert modules == {route.module for route in ROUTES.values()}
    assert list(CATALOGUE) == list(ROUTES)
    for key in ROUTES:
        assert CATALOGUE[key] is catalogue.entry(key)  # made once
        assert CATALOGUE[key].key == key
    assert list(ROUTES)[-1] == "write-text-file" and ROUTES["write-text-file"].heads is None


def test_lookup_answers_as_every_entry_tried_in_order() -> None:
    paths = _paths(9000)
    matched: set[str] = set()
    for path in paths:
        for key, entry in CATALOGUE.items():
            if entry.matches(path):
                matched.add(key)
                assert ROUTES[key].admits(path), (key, path)
        assert lookup(path) is _every_entry_in_order(path), path
    # the paths reach every entry: each route's heads were checked against a match
    assert matched == set(ROUTES)


PROBE = """\
import json, sys
from secretkit.nix.catalogue import lookup
found = lookup(tuple(sys.argv[1].split(".")))
print(json.dumps([found and found.key, sorted(m for m in sys.modules if ".catalogue." in m)]))
"""


def _probe(path: str) -> tuple[str | None, list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, path],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    key, modules = json.loads(proc.stdout)
    return key, [m.rsplit(".", 1)[1] for m in modules]


def test_lookup_loads_only_the_modules_near_the_path() -> None:
    assert _probe("services.foo.settings.password") == (None, ["base", "write_text"])
    key, modules = _probe("services.grafana.settings.security.admin_password")
    assert key == "grafana-file-provider"
    assert modules == ["base", "grafana"]
    key, modules = _probe("services.restic.backups.home.passwordFile")
    assert key == "restic-files"
    assert "acme" not in modules and "grafana" not in modules and "restic" in modules


def _instance(pattern: str) -> list[str]:
    """One path ``pattern`` matches (the first alternative, ``x`` for ``*``)."""
    parts = []
    for part in pattern.split("."):
        parts.append({"*": "x", "[]": "[0]", "**": "x"}.get(part, part.split("|")[0]))
    return parts


def test_file_reader_answers_for_every_target_an_entry_names() -> None:
    """Who reads the file each ``*File`` option an entry moves secrets to names: the
    entry's reader (what ``check``'s service-readable point holds a declaration to)."""
    named = 0
    for key in ROUTES:
        found = catalogue.entry(key)
        targets = getattr(found, "targets", None)
        for pattern in targets() if targets is not None else ():
            path = _instance(pattern)
            assert catalogue.file_reader(path) == found.reader, (key, pattern)
            named += 1
    assert named >= 30
    expected = {
        "services.prometheus.scrapeConfigs.[0].basic_auth.password_file": '"prometheus"',
        "services.prometheus.remoteWrite.[2].bearer_token_file": '"prometheus"',
        "networking.wireless.secretsFile": '"wpa_supplicant"',
        "services.nginx.virtualHosts.a.locations./.basicAuthFile": "config.services.nginx.user",
        "services.matrix-synapse.extraConfigFiles": '"matrix-synapse"',
        "services.postgresql.initialScript": '"postgres"',
        # (prometheus reads every *_file of its configurations, and its web config)
        "services.prometheus.scrapeConfigs.basic_auth.password_file": '"prometheus"',  # (map)
        "services.prometheus.alertmanagers.[0].basic_auth.password_file": '"prometheus"',
        "services.prometheus.scrapeConfigs.[0].tls_config.key_file": '"prometheus"',
        "services.prometheus.scrapeConfigs.[0].consul_sd_configs.[0].authorization"
        ".credentials_file": '"prometheus"',
        "services.prometheus.webConfigFile": '"prometheus"',
    }
    for dotted, owner in expected.items():
        reader = catalogue.file_reader(dotted.split("."))
        assert reader is not None and reader.owner == owner, dotted
    # the catch-all's reader is not known; one a sibling attribute names is that
    # option, read on each host (restic's backup user, root by default)
    assert catalogue.file_reader(["services", "foo", "passwordFile"]) is None
    restic = catalogue.file_reader(["services", "restic", "backups", "b", "passwordFile"])
    assert restic is not None
    assert (restic.owner, restic.owner_default) == ("config.services.restic.backups.b.user", "root")
    assert catalogue.file_reader(["services", "restic", "backups", "a b", "passwordFile"]) is None
