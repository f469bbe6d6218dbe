"""snowfall-lib flakes: ``snowfall-lib.mkFlake { src = ./.; … }`` (or ``mkLib`` then
``lib.mkFlake``) makes a system of each ``systems/<target>/<host>/default.nix`` and
imports every ``modules/nixos/**/default.nix`` (``modules/darwin`` for darwin targets)
into each; ``systems.modules.nixos`` adds flake inputs' modules to all of them.
Read from the directory tree and flake.nix, never evaluated."""

from __future__ import annotations

from pathlib import Path

from secretkit.nix import cst
from secretkit.nix.hosts.closure import Closure
from secretkit.nix.hosts.evaluator import Val
from secretkit.nix.hosts.files import File


def add_systems(d: Closure) -> bool:
    """The systems of a snowfall-lib flake as hosts; False when flake.nix is none."""
    rel = Path("flake.nix")
    file = d.load(rel)
    if file is None or b"snowfall-lib" not in file.source or b"mkFlake" not in file.source:
        return False
    base = _root(d, file)
    systems = d.root / base / "systems"
    if not systems.is_dir():
        return False
    extra: dict[str, list[Val]] = {}  # systems.modules.<kind> = [ inputs' modules ]
    for b in cst.bindings(file):
        full = [*b.attrset_path, *b.attrpath]
        if full[-3:-1] == ["systems", "modules"] and full[-1] in ("nixos", "darwin"):
            extra.setdefault(full[-1], []).append(Val(b.value, file, {}))
    for target in sorted(p for p in systems.iterdir() if p.is_dir()):
        darwin = target.name.endswith("-darwin")
        shared = (
            sorted(
                (d.root / base / "modules" / ("darwin" if darwin else "nixos")).rglob("default.nix")
            )
            if (d.root / base / "modules").is_dir()
            else []
        )
        for system in sorted(p for p in target.iterdir() if (p / "default.nix").is_file()):
            acc = d.reading = d.host(system.name, "darwin" if darwin else "flake")
            d.file_module(Path(base, "systems", target.name, system.name, "default.nix"), acc, True)
            for module in shared:
                d.file_module(module.relative_to(d.root), acc, False)
            for value in extra.get("darwin" if darwin else "nixos", []):
                elements, _unknown = d.list_elements(value)
                for element in elements:
                    d.module(element, acc, False)
    d.reading = None
    return bool(d.hosts)


def _root(d: Closure, file: File) -> Path:
    """snowfall's root: ``snowfall.root``, else ``src`` (``./.`` when neither is a path)."""
    found: dict[str, str] = {}
    for b in cst.bindings(file):
        name = ".".join(b.attrpath)
        if name in ("src", "root", "snowfall.root") and b.value.type == "path_expression":
            found["root" if name.endswith("root") else "src"] = cst.node_text(file, b.value)
    text = found.get("root") or found.get("src") or "./."
    try:
        return (d.root / text).resolve().relative_to(d.resolved_root)
    except (OSError, ValueError):
        return Path(".")
