"""How a repository without a flake names sops-nix's NixOS module: through the pin its
npins or niv sources already hold, else after pinning it there, else a fetch.

sops-nix's master follows the newest nixpkgs (:mod:`secretkit.nix.sops_nix_pins`): on a
release it no longer builds for, the pin names the last commit tested with it.  The
module's path is ``<source>/modules/sops`` (Mic92/sops-nix, default.nix:
``nixosModules.sops = ./modules/sops``).
"""

from __future__ import annotations

import json
from pathlib import Path

from secretkit.nix.sops_nix_pins import tested_for

_FETCH = (
    '"${builtins.fetchTarball "https://github.com/Mic92/sops-nix/archive/REV.tar.gz"}/modules/sops"'
)
_NPINS = '"${(import ./npins).sops-nix}/modules/sops"'
_NIV = '"${(import ./nix/sources.nix).sops-nix}/modules/sops"'
_TOP = "; as a file at the repository's top names it, from elsewhere the path to it"


def module_text(root: Path, release: str | None) -> str:
    """The module to import by hand and what it needs, as one text."""
    expression, note = module_ref(root, release)
    return expression + note


def module_ref(root: Path, release: str | None) -> tuple[str, str]:
    """The module to import by hand (a Nix string), and what it needs first, said in
    parentheses (a pin to add, where the path is relative to)."""
    tested = tested_for(release)
    commit = tested[1] if tested is not None else None
    npins = _pins(root / "npins" / "sources.json", ("pins",))
    niv = _pins(root / "nix" / "sources.json", ())
    tested_note = (
        f": the last sops-nix commit tested with NixOS {release}, where master no longer builds"
        if commit is not None
        else ""
    )
    if npins is not None and "sops-nix" in npins:
        again = (
            f", pinned at {commit} first (`npins remove sops-nix; npins add github -b master "
            f"--at {commit} Mic92 sops-nix`){tested_note}"
            if commit is not None and _revision(npins["sops-nix"]) != commit
            else ""
        )
        return _NPINS, f" (npins' pin sops-nix{again}{_TOP})"
    if niv is not None and "sops-nix" in niv:
        again = (
            f", pinned at {commit} first (`niv update sops-nix -r {commit}`){tested_note}"
            if commit is not None and _revision(niv["sops-nix"]) != commit
            else ""
        )
        return _NIV, f" (niv's pin sops-nix{again}{_TOP})"
    if npins is not None:
        at = f" --at {commit}" if commit is not None else ""
        return _NPINS, (
            f" (once `npins add github -b master{at} Mic92 sops-nix` pins it{tested_note}; "
            f"{_TOP.strip(' ;')})"
        )
    if niv is not None:
        rev = f" -r {commit}" if commit is not None else ""
        return _NIV, (
            f" (once `niv add Mic92/sops-nix{rev}` pins it{tested_note}; {_TOP.strip(' ;')})"
        )
    if commit is not None:
        return _FETCH.replace("REV", commit), (
            f" (the last sops-nix commit tested with NixOS {release}; add sha256 = what "
            "`nix-prefetch-url --unpack URL` prints, or pin it with niv or npins)"
        )
    return _FETCH.replace("REV", "master"), (
        " (it follows master, unpinned: to pin it write a commit for master and "
        "fetchTarball { url = …; sha256 = …; } with what `nix-prefetch-url --unpack URL` "
        "prints, or name a niv/npins source)"
    )


def _revision(pin: object) -> str | None:
    """The commit an npins or niv pin names (``revision``, ``rev``)."""
    if not isinstance(pin, dict):
        return None
    found = pin.get("revision") or pin.get("rev")
    return found if isinstance(found, str) else None


def _pins(path: Path, under: tuple[str, ...]) -> dict[str, object] | None:
    """The pins a sources.json holds, by name (None: no such file, or not JSON of pins)."""
    try:
        data = json.loads(path.read_bytes())
        for key in under:
            data = data[key]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return dict(data) if isinstance(data, dict) else None
