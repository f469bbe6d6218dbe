"""snowfall-lib flakes: ``snowfall-lib.mkFlake { src = ./.; … }`` (or ``mkLib`` then
``lib.mkFlake``) makes a system of each ``systems/<target>/<host>/default.nix`` and
imports every ``modules/nixos/**/default.nix`` (``modules/darwin`` for darwin targets)
into each; ``systems.modules.nixos`` adds modules to all of them and
``systems.hosts.<h>.modules`` to one.

Homes (``homes/<target>/<user>[@<host>]/default.nix``) are ``homeConfigurations`` of
their own, with every ``modules/home/**/default.nix`` and ``homes.modules``; with
home-manager among the flake's inputs snowfall also puts them into the systems: the
shared home modules into all, a home into the system it names (one without ``@<host>``
into every system of its target's architecture), as home-manager modules.
Read from the directory tree and flake.nix, never evaluated."""

from __future__ import annotations

from pathlib import Path

from secretkit.nix import cst
from secretkit.nix.cst import Node
from secretkit.nix.hosts.closure import Closure, HostAcc
from secretkit.nix.hosts.files import File
from secretkit.nix.hosts.values import Val


def add_systems(d: Closure) -> bool:
    """The systems (and homes) of a snowfall-lib flake as hosts; False when flake.nix
    is none."""
    rel = Path("flake.nix")
    file = d.load(rel)
    if file is None or b"snowfall-lib" not in file.source or b"mkFlake" not in file.source:
        return False
    base = _root(d, file)
    systems = d.root / base / "systems"
    if not systems.is_dir():
        return False
    lists = _module_lists(file)
    homes = _homes(d, base)
    with_homes = "home-manager" in d.flake_inputs()
    for target in sorted(p for p in systems.iterdir() if p.is_dir()):
        darwin = "darwin" in target.name
        kind = "darwin" if darwin else "nixos"
        shared = _default_files(d, base / "modules" / kind)
        for system in sorted(p for p in target.iterdir() if (p / "default.nix").is_file()):
            acc = d.reading = d.host(system.name, kind if darwin else "flake")
            acc.named = "." not in system.name  # (flake-utils-plus names it: Host.named)
            d.file_module(Path(base, "systems", target.name, system.name, "default.nix"), acc, True)
            for module in shared:
                d.file_module(module, acc, False)
            shared_lists = lists.get(("systems", "modules", kind), [])
            _lists(d, shared_lists, acc, "systems.modules")
            call = _mkflake_arguments(file) if not shared_lists and not darwin else None
            places = [(v.file.rel, v.node) for v in shared_lists] or (
                [(file.rel, call)] if call is not None else []  # (systems.modules.nixos goes in)
            )
            for rel_site, node in places:  # (where a module for every system is added)
                site = (rel_site, node.start_byte, node.end_byte)
                if site not in acc.sites:
                    acc.sites.append(site)
            _lists(d, lists.get(("systems", "hosts", system.name), []), acc, "modules")
            if with_homes:
                arch = _architecture(target.name)
                mine = [
                    (name, path)
                    for name, home_arch, path in homes
                    if name.partition("@")[2] == system.name
                    or ("@" not in name and home_arch == arch)
                ]
                _home_modules(d, acc, base, lists, mine)
    for name, _arch, path in homes:  # each home is a homeConfigurations output too
        acc = d.reading = d.host(name, "home-manager")
        d.file_module(path, acc, True)
        for module in _default_files(d, base / "modules" / "home"):
            d.file_module(module, acc, False)
        _lists(d, lists.get(("homes", "modules"), []), acc, "homes.modules")
        _lists(d, lists.get(("homes", "users", name), []), acc, "modules")
    d.reading = None
    return bool(d.hosts)


def _home_modules(
    d: Closure,
    acc: HostAcc,
    base: Path,
    lists: dict[tuple[str, ...], list[Val]],
    homes: list[tuple[str, Path]],
) -> None:
    """The home-manager modules snowfall puts into one system: the shared ones and the
    homes meant for it."""
    outer, d.in_home = d.in_home, True
    try:
        for module in _default_files(d, base / "modules" / "home"):
            d.file_module(module, acc, False)
        _lists(d, lists.get(("homes", "modules"), []), acc, "homes.modules")
        for name, path in homes:
            d.file_module(path, acc, False)
            _lists(d, lists.get(("homes", "users", name), []), acc, "modules")
    finally:
        d.in_home = outer


def _lists(d: Closure, values: list[Val], acc: HostAcc, what: str) -> None:
    """Module lists given in the mkFlake call; what cannot be followed is noted."""
    outer, d.current_host = d.current_host, acc.name
    try:
        for value in values:
            d.module_list(value, acc, False, what)
    finally:
        d.current_host = outer


def _module_lists(file: File) -> dict[tuple[str, ...], list[Val]]:
    """``systems.modules.<kind>``, ``systems.hosts.<h>.modules``, ``homes.modules`` and
    ``homes.users.<name>.modules`` bindings of flake.nix, by key (the host or home's
    name in place of ``modules`` for the last two)."""
    out: dict[tuple[str, ...], list[Val]] = {}
    for b in cst.bindings(file):
        full = [*b.attrset_path, *b.attrpath]
        key: tuple[str, ...] | None = None
        if full[-3:-1] == ["systems", "modules"] and full[-1] in ("nixos", "darwin"):
            key = ("systems", "modules", full[-1])
        elif len(full) >= 4 and full[-4:-2] in (["systems", "hosts"], ["homes", "users"]):
            key = (full[-4], full[-3], full[-2]) if full[-1] == "modules" else None
        elif full[-2:] == ["homes", "modules"]:
            key = ("homes", "modules")
        if key is not None:
            out.setdefault(key, []).append(Val(b.value, file, {}))
    return out


def _homes(d: Closure, base: Path) -> list[tuple[str, str, Path]]:
    """Each ``homes/<target>/<name>/default.nix``: its name, architecture and file."""
    homes = d.root / base / "homes"
    if not homes.is_dir():
        return []
    return [
        (
            home.name,
            _architecture(target.name),
            Path(base, "homes", target.name, home.name, "default.nix"),
        )
        for target in sorted(p for p in homes.iterdir() if p.is_dir())
        for home in sorted(p for p in target.iterdir() if (p / "default.nix").is_file())
    ]


def _architecture(target: str) -> str:
    """The system a target builds for: a virtual one (nixos-generators' formats,
    ``x86_64-iso``) is an ``x86_64-linux`` system, snowfall putting ``linux`` in place of
    the format."""
    if target.endswith(("-linux", "-darwin")):
        return target
    return f"{target.partition('-')[0]}-linux"


def _default_files(d: Closure, rel_dir: Path) -> list[Path]:
    """Every ``default.nix`` under ``rel_dir`` (snowfall's modules), repo-relative."""
    where = d.root / rel_dir
    if not where.is_dir():
        return []
    return [p.relative_to(d.root) for p in sorted(where.rglob("default.nix"))]


def _mkflake_arguments(file: File) -> Node | None:
    """The attrset given to flake.nix's one ``mkFlake`` call, else None."""
    found = []
    for node in cst.walk(file.root):
        fn = node.child_by_field_name("function") if node.type == "apply_expression" else None
        name = cst.dotted_name(file, fn) if fn is not None else None
        arg = cst.unwrap(node.child_by_field_name("argument")) if name else None
        if name and name.split(".")[-1] == "mkFlake" and arg is not None:
            found.append(arg)
    return found[0] if len(found) == 1 and found[0].type in cst.ATTRSETS else None


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
