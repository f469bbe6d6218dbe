"""Hosts from directories: ``hosts/<h>/default.nix`` (or ``configuration.nix``) when
nothing else defines hosts or a host set could not be resolved, and a repository that
is one ``configuration.nix`` (``/etc/nixos`` kept in git)."""

from __future__ import annotations

from pathlib import Path

from secretkit.nix import cst
from secretkit.nix.hosts.closure import Closure
from secretkit.nix.hosts.model import Note
from secretkit.nix.hosts.values import Val


def hosts_dir(d: Closure) -> None:
    base = d.root / "hosts"
    if not base.is_dir():
        return
    used: set[Path] = set()
    for acc in d.hosts.values():
        used |= acc.modules
    anything = bool(d.hosts)
    candidates: list[tuple[str, Path, bool]] = []
    for entry in sorted(base.iterdir()):
        if not entry.is_dir():
            continue
        name = entry.name
        module = next(
            (
                Path("hosts") / name / f
                for f in ("default.nix", "configuration.nix")
                if (entry / f).is_file()
            ),
            None,
        )
        if module is None or module in used:
            continue
        known = d.hosts.get(name)
        if known is not None and known.resolved:
            continue
        if anything and known is None and not d.host_set_unresolved:
            continue
        candidates.append((name, module, known is None))
    # (a host set secretkit could not read may hand these hosts more modules)
    pending = list(d.unresolved) if d.host_set_unresolved else []
    for name, module, _new in candidates:
        acc = d.host(name, "hosts-dir")
        acc.gaps += [note for note in pending if note not in acc.gaps]
        d.file_module(module, acc, True)
    for name, module, new in candidates:
        others = (a for n, a in d.hosts.items() if n != name)
        if new and any(module in a.modules for a in others):
            del d.hosts[name]  # imported by another host: a shared module, not a host


def plain_configuration(d: Closure) -> None:
    """A repository that is one ``configuration.nix`` (``/etc/nixos`` kept in git): one
    host, named by the ``networking.hostName`` literal it sets, else ``nixos``."""
    if d.hosts or d.host_set_unresolved or (d.root / "flake.nix").is_file():
        return
    rel = Path("configuration.nix")
    file = d.load(rel)
    if file is None:
        return
    names = {d.string_value(Val(b.value, file, {})) for b, _ in cst.host_names(file)}
    name = names.pop() if len(names) == 1 and None not in names else None
    if name is None:
        d.unresolved.append(Note(rel, 1, "no single networking.hostName literal; host named nixos"))
    d.file_module(rel, d.host(name or "nixos", "configuration.nix"), True)
