"""The shape of the package, read from the source with ``ast`` (nothing is imported).

Every import counts: module level, inside functions, under ``TYPE_CHECKING``.  The
rules (STYLE.md 1, issue 10): no import cycles between modules, no import from a
package above in :data:`LAYERS`, no module over 600 lines, commands never import
another command, and tests use no private name of another package than the one
they mirror.  Each failure prints the offending edges or modules.

``python benchmarks/architecture_facts.py [ROOT]`` prints the same facts.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The layer order of issue 10 (ARCHITECTURE.md "Layers"), lowest first.  A module may import only
# from its own package, from a package of its own layer, or from a layer below.
# "" is the ``secretkit`` package itself (``__version__``); ``_examples`` is the
# demo's package data.  Both import nothing.
LAYERS: list[list[str]] = [
    [
        "",
        "_examples",
        "errors",
        "sensitive",
        "lazy_re",
        "signals",
        "codecache",
        "user_cache",
        "running",
    ],
    ["atomic", "repolock", "user_output"],
    ["git"],
    ["sops"],
    ["nix"],
    ["layouts"],
    ["scan"],
    ["keys"],
    ["generate"],
    ["plan"],
    ["agenix"],
    ["gate"],
    ["commands"],
    ["cli", "cli_output", "cli_params", "hook_group", "progress", "entry", "boundary", "__main__"],
]
MAX_LINES = 600


@dataclass
class Tree:
    """Modules of the package (dotted name -> file) and the import graph between them."""

    files: dict[str, Path]
    imports: dict[str, set[str]] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(module: str | None, level: int, current: str, is_package: bool) -> str:
    """The absolute module a ``from … import`` names (relative imports resolved)."""
    if not level:
        return module or ""
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([module] if module else [])])


def imported_modules(source: str, current: str, is_package: bool, known: Iterable[str]) -> set[str]:
    """The secretkit modules ``source`` imports: ``from pkg import mod`` names the
    module, ``from mod import name`` names ``mod`` (a package's names: its ``__init__``)."""
    names = set(known)
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module, node.level, current, is_package)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in names else base)
    return {name for name in found if name in names and name != current}


def load_tree(root: Path = ROOT) -> Tree:
    package = root / "secretkit"
    files = {module_name(p, root): p for p in sorted(package.rglob("*.py"))}
    tree = Tree(files)
    for name, path in files.items():
        text = path.read_text(encoding="utf-8")
        tree.lines[name] = len(text.splitlines())
        tree.imports[name] = imported_modules(text, name, path.name == "__init__.py", files)
    return tree


def package_of(module: str) -> str:
    """``secretkit.sops.stores.yaml_store`` -> ``sops``; ``secretkit`` -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer_of(package: str) -> int | None:
    for number, names in enumerate(LAYERS):
        if package in names:
            return number
    return None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, todo = work[-1]
            if todo:
                nxt = todo.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(graph.get(nxt, ()))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def cycle_edges(tree: Tree) -> list[str]:
    """Each cycle as the import edges inside it."""
    out = []
    for component in cycles(tree.imports):
        members = set(component)
        edges = [f"{a} -> {b}" for a in component for b in sorted(tree.imports[a]) if b in members]
        out.append("cycle: " + "; ".join(edges))
    return out


def upward_imports(tree: Tree) -> list[str]:
    out = []
    for module, targets in sorted(tree.imports.items()):
        mine = layer_of(package_of(module))
        for target in sorted(targets):
            theirs = layer_of(package_of(target))
            if mine is not None and theirs is not None and theirs > mine:
                out.append(
                    f"{module} -> {target} ({package_of(module)} is layer {mine + 1}, "
                    f"{package_of(target)} is layer {theirs + 1})"
                )
    return out


def unlayered_packages(tree: Tree) -> list[str]:
    return sorted({package_of(m) for m in tree.files if layer_of(package_of(m)) is None})


def long_modules(tree: Tree, limit: int = MAX_LINES) -> list[str]:
    return [
        f"{module}: {count} lines"
        for module, count in sorted(tree.lines.items(), key=lambda item: -item[1])
        if count > limit
    ]


def command_to_command(tree: Tree) -> list[str]:
    """``secretkit.commands.X`` importing ``secretkit.commands.Y`` (the package's
    ``__init__`` excepted, on either side)."""
    prefix = "secretkit.commands."
    return [
        f"{module} -> {target}"
        for module, targets in sorted(tree.imports.items())
        if module.startswith(prefix)
        for target in sorted(targets)
        if target.startswith(prefix)
    ]


def mirrored_packages(test_file: Path, tests_root: Path, tree: Tree) -> set[str]:
    """The packages a test file mirrors: ``tests/sops/…`` -> ``sops``; the top-level
    modules' tests live in ``tests/core`` (and the CLI's in ``tests/cli``)."""
    first = test_file.relative_to(tests_root).parts[0]
    if first == "core":
        return {package_of(m) for m, path in tree.files.items() if path.parent.name == "secretkit"}
    if first == "cli":
        return {"cli", "entry", "boundary", "__main__"}
    return {first}


def private_test_imports(tree: Tree, tests_root: Path | None = None) -> list[str]:
    """``from secretkit.<other package>… import _name`` in a test file."""
    tests_root = tests_root or ROOT / "tests"
    out = []
    for path in sorted(tests_root.rglob("*.py")):
        if "node_modules" in path.parts:
            continue
        own = mirrored_packages(path, tests_root, tree)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                continue
            if not node.module.startswith("secretkit"):
                continue
            private = [
                a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")
            ]
            if private and package_of(node.module) not in own:
                rel = path.relative_to(tests_root.parent)
                out.append(f"{rel}:{node.lineno}: {node.module} import {', '.join(private)}")
    return out


def facts(tree: Tree) -> list[str]:
    longest = max(tree.lines, key=lambda m: tree.lines[m])
    found_cycles = cycles(tree.imports)
    upward = upward_imports(tree)
    lines = [
        f"modules: {len(tree.files)}, lines: {sum(tree.lines.values())}",
        f"longest module: {longest} ({tree.lines[longest]} lines)",
        f"over {MAX_LINES} lines: {len(long_modules(tree))}, "
        f"over 400: {len(long_modules(tree, 400))}",
        *(f"  {entry}" for entry in long_modules(tree)),
        f"module cycles: {len(found_cycles)}",
        *(f"  {entry}" for entry in cycle_edges(tree)),
        f"upward imports: {len(upward)}",
        *(f"  {entry}" for entry in upward),
        f"command -> command imports: {len(command_to_command(tree))}",
        *(f"  {entry}" for entry in command_to_command(tree)),
    ]
    return lines


# -- the rules ------------------------------------------------------------------------

TREE = load_tree()


def _report(title: str, offenders: list[str]) -> str:
    text = f"{title} ({len(offenders)}):\n" + "\n".join(f"  {o}" for o in offenders)
    print(text)
    return text


def test_the_reader_sees_every_import_kind() -> None:
    """The graph is only as good as the reader: module level, relative, in a function,
    under TYPE_CHECKING, ``from pkg import module`` and ``from module import name``."""
    known = {"secretkit.a", "secretkit.a.b", "secretkit.a.c", "secretkit.d"}
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import c\n"
        "if TYPE_CHECKING:\n    from secretkit.d import Thing\n"
        "def f():\n    import secretkit.a\n"
        "from secretkit.a.b import x\n"
    )
    assert imported_modules(source, "secretkit.a.b", False, known) == {
        "secretkit.a.c",
        "secretkit.d",
        "secretkit.a",
    }
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_each_rule_names_its_offenders(tmp_path: Path) -> None:
    """A small tree with one offence of each kind: every rule reports exactly it."""
    files = {
        "secretkit/__init__.py": "",
        "secretkit/errors.py": "",
        "secretkit/sops/__init__.py": "",
        "secretkit/sops/a.py": "from secretkit.sops import b\n",
        "secretkit/sops/b.py": "def f():\n    from secretkit.sops.a import x\n",
        "secretkit/sops/c.py": "from secretkit.keys.k import y\n" + "z = 1\n" * MAX_LINES,
        "secretkit/keys/__init__.py": "",
        "secretkit/keys/k.py": "from secretkit.errors import E\n",
        "secretkit/commands/__init__.py": "def helper_in_init(): ...\n",
        "secretkit/commands/one.py": "from secretkit.commands import two, helper_in_init\n",
        "secretkit/commands/two.py": "",
        "secretkit/novel/__init__.py": "",
        "tests/sops/test_x.py": "from secretkit.sops.a import _mine\n",
        "tests/keys/test_y.py": "from secretkit.sops.a import _theirs, public, __all__\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    tree = load_tree(tmp_path)
    assert cycle_edges(tree) == ["cycle: secretkit.sops.a -> secretkit.sops.b; "
                                 "secretkit.sops.b -> secretkit.sops.a"]  # fmt: skip
    assert upward_imports(tree) == [
        "secretkit.sops.c -> secretkit.keys.k (sops is layer 4, keys is layer 8)"
    ]
    assert long_modules(tree) == [f"secretkit.sops.c: {MAX_LINES + 1} lines"]
    assert command_to_command(tree) == ["secretkit.commands.one -> secretkit.commands.two"]
    assert private_test_imports(tree, tmp_path / "tests") == [
        "tests/keys/test_y.py:1: secretkit.sops.a import _theirs"
    ]
    assert unlayered_packages(tree) == ["novel"]


def test_every_package_has_a_layer() -> None:
    offenders = unlayered_packages(TREE)
    assert not offenders, _report("packages missing from LAYERS", offenders)


def test_no_import_cycles() -> None:
    offenders = cycle_edges(TREE)
    assert not offenders, _report("import cycles", offenders)


def test_no_upward_imports() -> None:
    offenders = upward_imports(TREE)
    assert not offenders, _report("upward imports", offenders)


def test_no_module_over_600_lines() -> None:
    offenders = long_modules(TREE)
    assert not offenders, _report(f"modules over {MAX_LINES} lines", offenders)


def test_commands_never_import_another_command() -> None:
    offenders = command_to_command(TREE)
    assert not offenders, _report("command modules importing command modules", offenders)


def test_tests_import_no_private_name_of_another_package() -> None:
    offenders = private_test_imports(TREE)
    assert not offenders, _report("tests importing private names across packages", offenders)
