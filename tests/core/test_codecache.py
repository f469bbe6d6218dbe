"""codecache.py: dataclasses made with the cache are the ones ``exec`` makes, the
cache is kept beside the bytecode as the interpreter keeps ``.pyc`` files, and a
damaged, foreign or unwritable cache costs a compilation, never a failure."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from importlib.util import MAGIC_NUMBER
from pathlib import Path

import pytest

from secretkit import codecache
from tests.conftest import git
from tests.support import fake

# No __future__ import: the annotations of the generated __init__ are the types
# themselves, which a compilation inheriting this test's own flags would turn to text.
CLASSES = textwrap.dedent(
    """
    import dataclasses
    from typing import ClassVar

    @dataclasses.dataclass(frozen=True)
    class Point:
        x: int
        y: int = 0
        tags: tuple = ()
        kind: ClassVar[str] = "point"

    @dataclasses.dataclass(order=True)
    class Item:
        name: str
        seen: list = dataclasses.field(default_factory=list)
        size: int = dataclasses.field(default=1, compare=False)

    @dataclasses.dataclass(kw_only=True, slots=True)
    class Options:
        strict: bool
        level: int = 2
    """
)


def _classes() -> dict[str, type]:
    namespace: dict[str, object] = {"__name__": "codecache_probe"}
    exec(compile(CLASSES, "<probe>", "exec", dont_inherit=True), namespace)
    return {name: namespace[name] for name in ("Point", "Item", "Options")}  # type: ignore[misc]


def _methods(cls: type) -> dict[str, object]:
    found = {}
    for name in ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__lt__"):
        function = vars(cls).get(name)
        code = getattr(function, "__code__", None)
        if code is not None:
            found[name] = (
                code.co_code,
                code.co_consts,
                code.co_names,
                code.co_varnames,
                code.co_filename,
                code.co_flags,
                function.__annotations__,  # type: ignore[union-attr]
                function.__defaults__,  # type: ignore[union-attr]
                function.__kwdefaults__,  # type: ignore[union-attr]
            )
    return found


def test_classes_made_through_the_cache_are_the_ones_exec_makes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "pycache_prefix", str(tmp_path))
    monkeypatch.setattr(codecache, "_loaded", None)
    monkeypatch.setattr(codecache, "_new", {})
    monkeypatch.setattr(codecache, "_used", set())
    plain = _classes()
    monkeypatch.setattr(dataclasses, "exec", codecache._exec, raising=False)
    cached = _classes()
    assert codecache.compiled() > 0  # the first meeting compiles
    again = _classes()
    for name in plain:
        assert _methods(cached[name]) == _methods(plain[name]) == _methods(again[name]), name
    assert cached["Point"].__init__.__annotations__["x"] is int  # type: ignore[misc]
    point = cached["Point"](1, tags=("a",))
    assert (repr(point), point == cached["Point"](1, 0, ("a",))) == (
        "Point(x=1, y=0, tags=('a',))",
        True,
    )
    assert hash(point) == hash(plain["Point"](1, tags=("a",)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 2  # type: ignore[misc]
    assert cached["Item"]("a", size=3) < cached["Item"]("b")
    assert cached["Item"]("a", size=3) == cached["Item"]("a", size=4)  # size: compare=False
    with pytest.raises(TypeError):
        cached["Options"](True)  # keyword-only
    assert cached["Options"](strict=True).level == 2


# A fresh interpreter: install, define the classes, save; prints what it compiled.
PROBE = textwrap.dedent(
    """
    import json, sys
    from secretkit import codecache
    codecache.install()
    exec(sys.argv[1], {"__name__": "probe"})
    compiled = codecache.compiled()
    codecache.save()
    print(json.dumps({"compiled": compiled, "path": codecache.path()}))
    """
)


def _probe(prefix: Path, *, write: bool = True) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(prefix)
    if not write:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, CLASSES],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_a_second_interpreter_compiles_nothing(tmp_path: Path) -> None:
    first = _probe(tmp_path)
    where = Path(str(first["path"]))
    assert where.is_relative_to(tmp_path) and where.name.startswith("codecache.")
    assert isinstance(first["compiled"], int) and first["compiled"] >= 8
    data = where.read_bytes()
    assert data.startswith(MAGIC_NUMBER)
    stamp = where.stat().st_mtime_ns
    assert _probe(tmp_path)["compiled"] == 0
    assert where.stat().st_mtime_ns == stamp and where.read_bytes() == data  # not rewritten
    assert not [p.name for p in where.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: b"\0\0\r\n" + data[4:], id="other-python"),
        pytest.param(lambda data: MAGIC_NUMBER + os.urandom(64), id="garbage"),
        pytest.param(lambda data: MAGIC_NUMBER + b"i\x07\0\0\0", id="not-a-table"),
    ],
)
def test_a_damaged_or_foreign_cache_is_compiled_again_and_replaced(tmp_path: Path, damage) -> None:  # type: ignore[no-untyped-def]
    first = _probe(tmp_path)
    where = Path(str(first["path"]))
    where.write_bytes(damage(where.read_bytes()))
    assert _probe(tmp_path)["compiled"] == first["compiled"]
    assert _probe(tmp_path)["compiled"] == 0  # the damaged file was replaced


def test_nothing_is_written_where_bytecode_is_not(tmp_path: Path) -> None:
    assert _probe(tmp_path, write=False)["compiled"] != 0
    assert not any(tmp_path.rglob("*.marshal"))
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache's folders would go\n")
    assert _probe(blocked)["compiled"] != 0  # the cache cannot be written: no error
    assert _probe(blocked)["compiled"] != 0


def test_the_console_script_keeps_the_cache_and_prints_the_same(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    secret = fake.password("codecache")
    (tmp_git_repo / "host.nix").write_text(f'{{ services.foo.password = "{secret}"; }}\n')
    git(tmp_git_repo, "add", "host.nix")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp_path / "prefix")

    def hook() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "secretkit", "hook", "--", "host.nix"],
            cwd=tmp_git_repo,
            env=env,
            capture_output=True,
            text=True,
        )

    first = hook()
    (cache,) = (tmp_path / "prefix").rglob("codecache.*.marshal")
    stamp = cache.stat().st_mtime_ns
    second = hook()
    assert first.returncode == second.returncode == 1
    assert "secret-attribute" in first.stdout
    assert (second.stdout, second.stderr) == (first.stdout, first.stderr)
    assert cache.stat().st_mtime_ns == stamp  # the second run compiled nothing new
