"""hostvalues.py: a module is parsed only when a question names an option its bytes
can name, and the answers are those of reading every module."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.nix import cst
from secretkit.nix.inline import node_at_span
from secretkit.plan import hostvalues
from secretkit.plan.hostvalues import collect
from tests.conftest import ROOT

EXAMPLES = [ROOT / "examples" / "homelab", ROOT / "examples" / "servicelab"]


def _sources(top: Path) -> dict[str, bytes]:
    return {p.relative_to(top).as_posix(): p.read_bytes() for p in sorted(top.rglob("*.nix"))}


@pytest.mark.parametrize("top", EXAMPLES, ids=lambda p: p.name)
def test_every_option_a_module_sets_is_found_through_the_name_filter(top: Path) -> None:
    """The filter's premise: a module sets no option whose last name is not written in
    it.  Every option every module sets (read whole) is answered alike through it."""
    sources = _sources(top)
    values = collect(sources, {"h": list(sources)}, cst.parse)
    checked = 0
    for rel, data in sources.items():
        tree = cst.parse(data)
        for option, line in hostvalues._set_at(tree).items():
            assert values.sets(rel, option) == line, (rel, option)
            checked += 1
        sets, defaults = hostvalues._module_values(tree)
        for option, text in {**defaults, **sets}.items():
            assert text in values._values("h", option), (rel, option)
    assert checked > 100


def test_a_question_parses_only_the_modules_that_name_the_option() -> None:
    parsed: list[bytes] = []

    def parse(data: bytes) -> cst.Tree:
        parsed.append(data)
        return cst.parse(data)

    others = {f"m{i}.nix": b'{ networking.hostName = "h%d"; }\n' % i for i in range(40)}
    keep = b'{ users.users.alice.hashedPasswordFile = "/persist/alice"; }\n'
    quoted = b'{ users.users.bob."hashed\\"File" = "/x"; }\n'  # an escaped quoted name
    sources = {**others, "keep.nix": keep, "quoted.nix": quoted, "user.nix": b"{ }\n"}
    values = collect(sources, {"h": sorted(sources)}, parse)
    option = ("users", "users", "alice", "hashedPasswordFile")
    assert values.set_elsewhere(["h"], "user.nix", [option]) == (".".join(option), "keep.nix:1")
    assert parsed == [keep]
    assert values.sets("quoted.nix", ("users", "users", "bob", 'hashed"File')) == 1
    assert parsed == [keep, quoted]
    assert values.value(["h"], ("networking", "hostName"))[0] is None  # 40 differing values
    assert len(parsed) == 42


def test_inline_modules_are_read_for_their_host_only() -> None:
    """A colmena node or a ``{ … }`` in a modules list sets options for its host: its
    values are its host's, not the file's (read as a module, the file sets none)."""
    src = (
        b'{ web = { name, ... }: { services.openssh.enable = true; networking.hostName = "w"; };'
        b' db = { networking.hostName = "d"; }; }'
    )
    tree = cst.parse(src)
    spans = {}
    for host, marker in (("web", b"{ services"), ("db", b'{ networking.hostName = "d"')):
        at = src.index(marker)
        node = node_at_span(tree, at, src.index(b"}", at) + 1)
        assert node is not None
        spans[host] = [("hive.nix", node.start_byte, node.end_byte)]
    values = collect({"hive.nix": src}, {"web": ["hive.nix"], "db": ["hive.nix"]}, cst.parse, spans)
    assert values.value(["web"], ("services", "openssh", "enable")) == ("true", "")
    assert values.value(["web"], ("networking", "hostName")) == ("w", "")
    assert values.value(["db"], ("networking", "hostName")) == ("d", "")
    assert values.value(["db"], ("services", "openssh", "enable"))[0] is None
