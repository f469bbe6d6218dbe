"""The flake input a host's ``inputs.sops-nix.nixosModules.sops`` needs: a flake whose
modules name it through its inputs but that declares no ``sops-nix`` input does not
evaluate (``attribute 'sops-nix' missing``), whatever the modules import."""

from __future__ import annotations

from typing import TYPE_CHECKING

from secretkit.gate.model import CheckResult
from secretkit.lazy_re import lazy
from secretkit.nix.input_names import names_the_input

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext

# `sops-nix.url = …`, `sops-nix = { url = …; }`, `sops-nix.inputs.… = …` (in inputs)
_DECLARED = lazy(rb"(?<![\w-])sops-nix(?:\.url\b|\s*=\s*\{|\.inputs\.|\.flake\b)")
# `outputs = { self, nixpkgs, sops-nix, ... }:`: an argument of outputs is an input
# of its own (Nix looks an undeclared one up in the flake registry)
_OUTPUTS_ARGUMENT = lazy(rb"outputs\s*=\s*(?:[\w-]+\s*@\s*)?\{[^{}]*(?<![\w-])sops-nix(?![\w-])")


def missing_input(ctx: CheckContext) -> list[CheckResult]:
    """``sops-nix-module`` fails where a file names ``inputs.sops-nix`` and flake.nix
    declares no such input."""
    flake = ctx.read("flake.nix") if not ctx.walk else None
    if flake is None or _DECLARED.search(flake) or _OUTPUTS_ARGUMENT.search(flake):
        return []
    # inputs.sops-nix.…, or a bare sops-nix.nixosModules.… no file binds itself: the
    # outputs' argument, or one a file of them takes (`{ nixpkgs, sops-nix, ... }@inputs`)
    named = [f for f in ctx.files() if f.endswith(".nix") and names_the_input(ctx.read(f) or b"")]
    if not named:
        return []
    return [
        CheckResult(
            "sops-nix-module",
            False,
            f"{named[0]} names the sops-nix input, but flake.nix declares no sops-nix input: "
            "the flake does not evaluate (attribute 'sops-nix' missing)",
            'add it to flake.nix: inputs.sops-nix.url = "github:Mic92/sops-nix"; (and '
            'inputs.sops-nix.inputs.nixpkgs.follows = "nixpkgs";), then nix flake lock',
            tuple(named[:3]),
        )
    ]
