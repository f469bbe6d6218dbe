"""haumea in host discovery: what ``haumea.lib.load { src = ./hosts; }``
stands for, read from the directory without evaluating Nix.

haumea turns a directory into an attrset: ``<name>.nix`` becomes ``<name>``, a
sub-directory ``<name>/`` becomes ``<name>`` (an attrset of its own entries, or the
value of its ``default.nix`` with the ``liftDefault`` transformer); a name starting with
``_`` is private and not in the result.  Two ways hosts are built on it:

* ``nixosConfigurations = haumea.lib.load { src = ./hosts; inputs = …; }``: each entry
  *is* a host definition — a file (or ``<name>/default.nix``) that returns
  ``nixpkgs.lib.nixosSystem { … }`` (haumea calls it with its inputs);
* ``nixosConfigurations = mapAttrs (name: value: nixosSystem { modules = [ value … ]; })
  (haumea.lib.load { src = ./hosts; loader = haumea.lib.loaders.path; })``: the names
  are the entries, and a host given its entry's ``value`` has the entry's ``.nix`` files
  as modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from secretkit.nix import cst
from secretkit.nix.hosts.evaluator import Evaluator
from secretkit.nix.hosts.values import Val


@dataclass(frozen=True)
class Entry:
    """One entry of a loaded directory (paths repo-relative)."""

    name: str
    definition: Path | None  # <name>.nix, or <name>/default.nix
    files: tuple[Path, ...]  # every .nix file the entry loads (private parts left out)


def is_loader(name: str | None) -> bool:
    """Whether a called function's name is haumea's ``load``."""
    return name is not None and (name == "haumea.lib.load" or name.endswith(".haumea.lib.load"))


def entries(root: Path, rel_dir: Path) -> list[Entry] | None:
    """The entries of ``rel_dir`` as haumea loads them; None when it cannot be read
    (missing, outside the repository)."""
    base = root / rel_dir
    try:
        resolved_root = root.resolve()
        base.resolve().relative_to(resolved_root)
        listing = sorted(base.iterdir())
    except (OSError, ValueError):
        return None
    out: list[Entry] = []
    for item in listing:
        name = item.name
        if name.startswith((".", "_")):
            continue
        if item.is_file() and name.endswith(".nix"):
            rel = rel_dir / name
            out.append(Entry(name[: -len(".nix")], rel, (rel,)))
        elif item.is_dir():
            files = tuple(
                Path(p.relative_to(resolved_root).as_posix())
                for p in sorted(item.resolve().rglob("*.nix"))
                if not any(part.startswith("_") for part in p.relative_to(item.resolve()).parts)
            )
            default = rel_dir / name / "default.nix"
            out.append(Entry(name, default if (item / "default.nix").is_file() else None, files))
    return out


def haumea_dir(d: Evaluator, v: Val) -> tuple[Path, list[Entry] | None] | None:
    """``haumea.lib.load { src = ./dir; … }``: the directory and its entries (None
    when it cannot be read); None when ``v`` is no such call."""
    target = d.deref(v)
    if not isinstance(target, Val) or target.node.type != "apply_expression":
        return None
    fn = target.node.child_by_field_name("function")
    arg = target.node.child_by_field_name("argument")
    if fn is None or arg is None or not is_loader(cst.dotted_name(target.file, fn)):
        return None
    for rest, src, _ in d.members(d.attrsets(Val(arg, target.file, target.scope)), "src"):
        text = d.path_text(src) if not rest else None
        if text is None or text.startswith(("/", "~")):
            return None
        base = (d.root / target.file.rel).parent / text
        try:
            rel = Path(base.resolve().relative_to(d.resolved_root).as_posix())
        except (OSError, ValueError):
            return None
        return rel, entries(d.root, rel)
    return None
