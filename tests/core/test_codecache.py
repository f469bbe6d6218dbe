"""codecache.py: dataclasses and patterns made with the cache are the ones ``exec``
and ``re.compile`` make, the cache is kept in the user's cache directory, only the
user's own file is trusted, and a damaged, foreign or unwritable cache costs a
compilation, never a failure."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import json
import marshal
import os
import re
import subprocess
import sys
import textwrap
from importlib.util import MAGIC_NUMBER
from pathlib import Path
from types import SimpleNamespace

import pytest

import secretkit
from secretkit import codecache, lazy_re
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


def _fresh_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codecache, "_loaded", None)
    monkeypatch.setattr(codecache, "_new", {"exec": {}, "re": {}})
    monkeypatch.setattr(codecache, "_used", {"exec": set(), "re": set()})


def test_classes_made_through_the_cache_are_the_ones_exec_makes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    _fresh_state(monkeypatch)
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
    env["XDG_CACHE_HOME"] = str(prefix)
    if not write:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, CLASSES],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_a_second_interpreter_compiles_nothing(tmp_path: Path) -> None:
    first = _probe(tmp_path)
    where = Path(str(first["path"]))
    assert where.parent == tmp_path / "secretkit" and where.name.startswith("codecache.")
    assert (where.stat().st_mode & 0o777, where.parent.stat().st_mode & 0o777) == (0o600, 0o700)
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
        # a byte changed on disk that marshal still reads: the code of a method would
        # differ from its text (other flips crash the interpreter running that code)
        pytest.param(lambda data: data.replace(b"<string>", b"<strinG>", 1), id="flipped"),
    ],
)
def test_a_damaged_or_foreign_cache_is_compiled_again_and_replaced(tmp_path: Path, damage) -> None:  # type: ignore[no-untyped-def]
    first = _probe(tmp_path)
    where = Path(str(first["path"]))
    where.write_bytes(damage(where.read_bytes()))
    assert _probe(tmp_path)["compiled"] == first["compiled"]
    assert _probe(tmp_path)["compiled"] == 0  # the damaged file was replaced


def _rewrite(where: Path, change) -> None:  # type: ignore[no-untyped-def]
    """Change the table the cache file holds, and write it back as save() writes it."""
    data = where.read_bytes()
    header = codecache._header()
    table = marshal.loads(data[len(header) + codecache._CHECKSUM :])
    change(table)
    payload = marshal.dumps(table)
    where.write_bytes(header + codecache._checksum(payload) + payload)


def test_a_run_unmarshals_only_the_entries_it_meets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = Path(str(_probe(tmp_path)["path"]))
    # the entries of Options (its fields' names in their text) are damaged: a run that
    # does not define Options never reads them, one that does compiles them again
    damaged: list[str] = []

    def damage(table: dict[str, dict[object, bytes]]) -> None:
        for source in table["exec"]:
            if isinstance(source, str) and "level" in source:
                table["exec"][source] = b"\xff damaged"
                damaged.append(source)

    _rewrite(where, damage)
    assert damaged
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    _fresh_state(monkeypatch)
    read: list[bytes] = []
    loads = marshal.loads

    def counting(data: bytes) -> object:
        read.append(data)
        return loads(data)

    monkeypatch.setattr(codecache, "marshal", SimpleNamespace(loads=counting, dumps=marshal.dumps))
    monkeypatch.setattr(dataclasses, "exec", codecache._exec, raising=False)
    without_options = CLASSES.split("@dataclasses.dataclass(kw_only=True")[0]
    namespace: dict[str, object] = {"__name__": "codecache_probe"}
    exec(compile(without_options, "<probe>", "exec", dont_inherit=True), namespace)
    assert codecache.compiled() == 0
    assert b"\xff damaged" not in read
    met = len(read) - 1  # the file's table, then one per entry met
    assert 0 < met < len(codecache._table("exec"))
    cached = _classes()  # Options now: its damaged entries are compiled anew
    assert codecache.compiled() == len(damaged)
    assert cached["Options"](strict=True).level == 2


def test_a_file_another_user_could_have_written_is_not_trusted(tmp_path: Path) -> None:
    where = Path(str(_probe(tmp_path)["path"]))
    where.chmod(0o620)  # writable by the group
    assert _probe(tmp_path)["compiled"] != 0
    where.chmod(0o600)
    assert _probe(tmp_path)["compiled"] == 0
    if os.getuid() == 0:  # (CI runs as root: a file of another owner can be made)
        os.chown(where, 4321, -1)
        assert _probe(tmp_path)["compiled"] != 0


def test_a_fifo_where_the_cache_goes_does_not_hang_the_program(tmp_path: Path) -> None:
    where = Path(str(_probe(tmp_path)["path"]))
    where.unlink()
    os.mkfifo(where, 0o600)
    assert _probe(tmp_path)["compiled"] != 0  # (the probe's own timeout would fail it)


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
    env["XDG_CACHE_HOME"] = str(tmp_path / "prefix")

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


def _package_patterns() -> list[tuple[str | bytes, int]]:
    package = Path(secretkit.__file__).parent
    for file in sorted(package.rglob("*.py")):
        if "from secretkit.lazy_re import lazy" in file.read_text(encoding="utf-8"):
            name = file.relative_to(package.parent).with_suffix("").as_posix()
            importlib.import_module(name.replace("/", ".").removesuffix(".__init__"))
    return list(dict.fromkeys((p._source, int(p._flags)) for p in lazy_re._MADE))


def test_every_package_pattern_built_from_its_kept_program_is_res_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = _package_patterns()
    assert len(sources) > 150
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    _fresh_state(monkeypatch)
    assert codecache.pattern(r"a+", 0) is re.compile(r"a+")  # not installed: re's own
    monkeypatch.setattr(codecache, "_installed", True)
    first = [codecache.pattern(source, flags) for source, flags in sources]
    assert codecache.compiled() == len(sources)  # every program kept
    codecache.save()
    _fresh_state(monkeypatch)  # as the next run: only the file
    again = [codecache.pattern(source, flags) for source, flags in sources]
    assert codecache.compiled() == 0
    for (source, flags), made, built in zip(sources, first, again, strict=True):
        expected = re.compile(source, flags)
        assert made == built == expected, source  # (a pattern's == compares its program)
        assert (built.pattern, built.flags, built.groups, built.groupindex) == (
            expected.pattern,
            expected.flags,
            expected.groups,
            expected.groupindex,
        )


def test_a_program_the_interpreter_refuses_is_compiled_anew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    _fresh_state(monkeypatch)
    monkeypatch.setattr(codecache, "_installed", True)
    key = (r"(?P<word>\w+)=\d", 0)
    monkeypatch.setattr(
        codecache,
        "_loaded",
        {"exec": {}, "re": {key: marshal.dumps((32, [1, 2, 3], 1, {"word": 1}, (None, "word")))}},
    )
    made = codecache.pattern(*key)
    assert made == re.compile(*key) and made.search("x a=1").group("word") == "a"


def test_lazy_patterns_are_made_at_module_level_only() -> None:
    """What the cache keeps is written to disk: a pattern made from a value a run
    reads (a secret) must never reach it, so ``lazy`` is called by module code only."""
    package = Path(secretkit.__file__).parent
    inside: list[str] = []

    def visit(node: ast.AST, where: str, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            if (
                in_function
                and isinstance(child, ast.Call)
                and isinstance(child.func, ast.Name)
                and child.func.id in ("lazy", "pattern")
            ):
                inside.append(f"{where}:{child.lineno}")
            visit(child, where, nested)

    for file in sorted(package.rglob("*.py")):
        if file.name not in ("lazy_re.py", "codecache.py"):
            visit(ast.parse(file.read_text(encoding="utf-8")), file.name, False)
    assert inside == []


def test_the_cache_file_holds_no_scanned_value(tmp_git_repo: Path, tmp_path: Path) -> None:
    secret = fake.password("codecache-leak")
    (tmp_git_repo / "app.json").write_text(f'{{ "password": "{secret}" }}\n')
    (tmp_git_repo / "host.nix").write_text(f'{{ services.foo.password = "{secret}x"; }}\n')
    git(tmp_git_repo, "add", ".")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "prefix")
    for args in (["hook"], ["scan", "--format", "json"], ["check", "--source-only"]):
        subprocess.run(
            [sys.executable, "-m", "secretkit", *args],
            cwd=tmp_git_repo,
            env=env,
            capture_output=True,
        )
    (cache,) = (tmp_path / "prefix").rglob("codecache.*.marshal")
    data = cache.read_bytes()
    assert secret.encode() not in data and secret[:8].encode() not in data


WITHOUT_INSPECT = """\
import sys
from secretkit import codecache
codecache.install()
import dataclasses
assert "inspect" not in sys.modules, "inspect was imported"

@dataclasses.dataclass
class Documented:
    \"\"\"Has a docstring: dataclasses does not ask inspect.\"\"\"
    a: int

assert "inspect" not in sys.modules
assert Documented(1) == Documented(1)

@dataclasses.dataclass
class Bare:
    a: int
    b: str = "x"

# a class without a docstring is named as dataclasses names it, by the real inspect
assert Bare.__doc__ == "Bare(a: int, b: str = 'x')", Bare.__doc__
import inspect
assert type(inspect).__name__ == "module" and inspect.signature is not None
assert dataclasses.inspect is inspect is sys.modules["inspect"]
print("ok")
"""


def test_dataclasses_comes_without_inspect_until_a_class_needs_it() -> None:
    """The hook's start-up skips inspect (with ast, dis, tokenize); dataclasses gets
    the real module the first time it asks, and nothing else ever sees a stand-in."""
    proc = subprocess.run(
        [sys.executable, "-c", WITHOUT_INSPECT],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(secretkit.__file__).parents[1])},
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
