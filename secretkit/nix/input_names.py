"""How Nix code names the flake's sops-nix input: ``inputs.sops-nix.nixosModules.x``,
or ``sops-nix.nixosModules.x`` as a variable no file binds itself (the outputs'
argument, or one a file of them takes: ``{ nixpkgs, sops-nix, ... }@inputs``)."""

from __future__ import annotations

from collections.abc import Collection

from secretkit.lazy_re import lazy

# `inputs.sops-nix.<kind>Modules.x`: the flake's input, named by whatever file holds it
INPUTS_NAME = lazy(rb"\binputs\.sops-nix\.(?:nixos|darwin|homeManager)Modules\.")
# `sops-nix.nixosModules.x` as a variable of its own (not `inputs.sops-nix.…`)
BARE_NAME = lazy(rb'(?<![.\w"\'-])sops-nix\.nixosModules\.')
_BINDS_BARE = lazy(rb"(?<![.\w\"'-])sops-nix\s*=(?!=)")


def bare_input_name(data: bytes) -> bool:
    """Whether ``data`` names ``sops-nix.nixosModules.…`` as a variable it does not bind
    itself (``let sops-nix = fetchTarball …``): the flake's input of that name."""
    return BARE_NAME.search(data) is not None and _BINDS_BARE.search(data) is None


def names_the_input(data: bytes) -> bool:
    """Whether ``data`` names the flake's sops-nix input, either way."""
    return INPUTS_NAME.search(data) is not None or bare_input_name(data)


def module_name(params: Collection[str], module: str) -> str | None:
    """How a module whose function takes ``params`` names sops-nix's ``module``
    (``sops-nix.nixosModules.sops``): as it is given the input, ``inputs.…`` given all
    inputs, ``self.inputs.…`` given the flake's ``self`` (a flake's own inputs); None
    when it cannot."""
    if "sops-nix" in params:
        return module
    found = (p for p in ("inputs", "self.inputs") if p.split(".")[0] in params)
    return next((f"{p}.{module}" for p in found), None)
