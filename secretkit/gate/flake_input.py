"""The flake input a host's ``inputs.sops-nix.nixosModules.sops`` needs: a flake whose
modules name it through its inputs but that declares no ``sops-nix`` input does not
evaluate (``attribute 'sops-nix' missing``), whatever the modules import."""

from __future__ import annotations

from typing import TYPE_CHECKING

from secretkit.gate.model import CheckResult
from secretkit.lazy_re import lazy
from secretkit.nix.wiring import INPUTS_NAME

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext

# `sops-nix.url = …`, `sops-nix = { url = …; }`, `sops-nix.inputs.… = …` (in inputs)
_DECLARED = lazy(rb"(?<![\w-])sops-nix(?:\.url\b|\s*=\s*\{|\.inputs\.|\.flake\b)")


def missing_input(ctx: CheckContext) -> list[CheckResult]:
    """``sops-nix-module`` fails where a file names ``inputs.sops-nix`` and flake.nix
    declares no such input."""
    flake = ctx.read("flake.nix") if not ctx.walk else None
    if flake is None or _DECLARED.search(flake):
        return []
    named = [
        f for f in ctx.files() if f.endswith(".nix") and INPUTS_NAME.search(ctx.read(f) or b"")
    ]
    if not named:
        return []
    return [
        CheckResult(
            "sops-nix-module",
            False,
            f"{named[0]} names inputs.sops-nix, but flake.nix declares no sops-nix input: "
            "the flake does not evaluate (attribute 'sops-nix' missing)",
            'add it to flake.nix: inputs.sops-nix.url = "github:Mic92/sops-nix"; (and '
            'inputs.sops-nix.inputs.nixpkgs.follows = "nixpkgs";), then nix flake lock',
            tuple(named[:3]),
        )
    ]
