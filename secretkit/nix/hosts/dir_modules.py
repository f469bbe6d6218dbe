"""Module lists read from a folder of the repository, in the two ways flakes write them:

* ``map (n: ./modules + "/${n}") (builtins.attrNames (builtins.readDir ./modules))``
  (or ``"${dir}/${n}"``, the folder possibly a let-bound name): every entry of the
  folder, a ``.nix`` file or a folder (its ``default.nix``), as Nix imports them;
* ``lib.filesystem.listFilesRecursive ./modules``, alone or under
  ``filter (lib.hasSuffix ".nix")``: every file below the folder (only the ``.nix``
  ones with the filter; without it, a file that is no module makes Nix fail, so none
  is expected there).

Read from the folder in the work tree, never evaluated; anything else is None (the
caller notes it as a list it could not read)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.nix import cst

if TYPE_CHECKING:
    from secretkit.nix.hosts.evaluator import Evaluator
    from secretkit.nix.hosts.values import Val

_MAP = ("map", "builtins.map", "lib.map", "lib.lists.map")
_NAMES = ("attrNames", "builtins.attrNames", "lib.attrNames")
_READ_DIR = ("readDir", "builtins.readDir")
_RECURSIVE = ("lib.filesystem.listFilesRecursive", "filesystem.listFilesRecursive")
_FILTER = ("filter", "builtins.filter", "lib.filter")
_NIX_SUFFIX = ('lib.hasSuffix ".nix"', 'hasSuffix ".nix"', 'lib.strings.hasSuffix ".nix"')


def dir_modules(ev: Evaluator, v: Val) -> list[Path] | None:
    """The repository files (relative) the module list ``v`` names, or None."""
    from secretkit.nix.hosts.values import Val, applied

    target = ev.deref(v)
    if not isinstance(target, Val):
        return None
    head, args = applied(target)
    if head in _MAP and len(args) == 2:
        names_head, names_args = applied(args[1])
        if names_head not in _NAMES or len(names_args) != 1:
            return None
        read_head, read_args = applied(names_args[0])
        if read_head not in _READ_DIR or len(read_args) != 1:
            return None
        folder = _folder(ev, read_args[0])
        if folder is None or _joined_folder(ev, args[0]) != folder:
            return None
        return _entries(ev, target, folder)
    only_nix = False
    if head in _FILTER and len(args) == 2:
        test = " ".join(target.file.text(args[0].node).split()).strip("()")
        if test not in _NIX_SUFFIX:
            return None
        only_nix, (head, args) = True, applied(args[1])
    if head in _RECURSIVE and len(args) == 1:
        folder = _folder(ev, args[0])
        return _below(ev, target, folder, only_nix) if folder is not None else None
    return None


def _folder(ev: Evaluator, v: Val) -> str | None:
    """The path text of a folder (a path literal, or a name bound to one)."""
    from secretkit.nix.hosts.values import Val

    target = ev.deref(v)
    return ev.path_text(target) if isinstance(target, Val) else None


def _joined_folder(ev: Evaluator, fn: Val) -> str | None:
    """For ``n: <folder> + "/${n}"`` or ``n: "${<folder>}/${n}"``: the folder's text."""
    from secretkit.nix.hosts.values import Val

    node = cst.unwrap(fn.node)
    if node is None or node.type != "function_expression":
        return None
    universal = node.child_by_field_name("universal")
    body = node.child_by_field_name("body")
    if universal is None or body is None:
        return None
    name = fn.file.text(universal)
    text = " ".join(fn.file.text(body).split())
    if body.type == "binary_expression" and text.endswith(f'+ "/${{{name}}}"'):
        left = body.child_by_field_name("left")
        return _folder(ev, Val(left, fn.file, fn.scope)) if left is not None else None
    if body.type == "string_expression" and text.endswith(f'/${{{name}}}"'):
        first = next(iter(body.named_children), None)
        inner = next(iter(first.named_children), None) if first is not None else None
        if first is None or first.type != "interpolation" or inner is None:
            return None
        if text != f'"${{{fn.file.text(inner)}}}/${{{name}}}"':
            return None
        return _folder(ev, Val(inner, fn.file, fn.scope))
    return None


def _base(ev: Evaluator, v: Val, folder: str) -> Path | None:
    if folder.startswith(("/", "~")):
        return None
    base = ((ev.root / v.file.rel).parent / folder).resolve()
    try:
        base.relative_to(ev.resolved_root)
    except ValueError:
        return None
    return base if base.is_dir() else None


def _entries(ev: Evaluator, v: Val, folder: str) -> list[Path] | None:
    """What ``readDir`` lists, as modules: ``x.nix``, and ``x/default.nix`` of a folder."""
    base = _base(ev, v, folder)
    if base is None:
        return None
    out = []
    for entry in sorted(base.iterdir()):
        module = entry / "default.nix" if entry.is_dir() else entry
        if module.is_file() and module.name.endswith(".nix"):
            out.append(Path(module.relative_to(ev.resolved_root).as_posix()))
    return out


def _below(ev: Evaluator, v: Val, folder: str, only_nix: bool) -> list[Path] | None:
    base = _base(ev, v, folder)
    if base is None:
        return None
    found = [p for p in sorted(base.rglob("*")) if p.is_file()]
    if not only_nix and any(not p.name.endswith(".nix") for p in found):
        return None  # (Nix would import a file that is no module: not read as this list)
    return [Path(p.relative_to(ev.resolved_root).as_posix()) for p in found if p.suffix == ".nix"]
