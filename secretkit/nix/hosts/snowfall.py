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
    """snowfall's root: ``snowfall.root``, else ``src``, of the ``mkLib``/``mkFlake``
    call (``./.`` when neither is a path literal there; a package's own ``src`` elsewhere
    in flake.nix is not it)."""
    found: dict[str, str] = {}
    for node in cst.walk(file.root):
        fn = node.child_by_field_name("function") if node.type == "apply_expression" else None
        name = cst.dotted_name(file, fn) if fn is not None else None
        arg = cst.unwrap(node.child_by_field_name("argument")) if name else None
        if name is None or name.split(".")[-1] not in ("mkLib", "mkFlake") or arg is None:
            continue
        if arg.type not in cst.ATTRSETS:
            continue
        entries = [(names or [], value) for names, value, _ in cst.attrset_entries(file, arg)]
        for names, value in list(entries):  # snowfall = { root = ./nix; … }
            if names == ["snowfall"] and value.type in cst.ATTRSETS:
                entries += [
                    (["snowfall", *(inner or [])], v)
                    for inner, v, _ in cst.attrset_entries(file, value)
                ]
        for names, value in entries:
            key = ".".join(names)
            if key in ("src", "snowfall.root") and value.type == "path_expression":
                found.setdefault("root" if key.endswith("root") else "src", file.text(value))
    text = found.get("root") or found.get("src") or "./."
    try:
        return (d.root / text).resolve().relative_to(d.resolved_root)
    except (OSError, ValueError):
        return Path(".")
