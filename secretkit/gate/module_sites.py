"""Where a host's modules are listed, for the fix that adds sops-nix's module there: its
builder's ``modules``, colmena's ``defaults``, or its first module file (in a flake,
through the flake's inputs: pure evaluation refuses an unpinned fetch)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext
    from secretkit.nix.hosts import Host, Inventory


def line_of(ctx: CheckContext, file: str, offset: int) -> int:
    data = ctx.read(file) or b""
    return data.count(b"\n", 0, offset) + 1


def _flake_input(ctx: CheckContext) -> str:
    """The input line a fix adds, pinned for the repository's release
    (:func:`secretkit.nix.wiring.input_url`)."""
    from secretkit.nix.sops_nix_pins import input_url
    from secretkit.plan.advice import repo_pin

    return f"inputs.sops-nix.url = {input_url(repo_pin(ctx.read).release)}"


def where_modules_are(ctx: CheckContext, host: Host, inventory: Inventory) -> tuple[str, str, str]:
    """(where ``host``'s module list is, how sops-nix's module is named there, what else
    that needs), for a fix: its builder's ``modules``, colmena's ``defaults``, or its
    first module file."""
    from secretkit.nix.no_flake_module import module_ref
    from secretkit.nix.wiring import DARWIN_MODULE, MODULE
    from secretkit.plan.advice import repo_pin

    # (a nix-darwin system needs sops-nix's nix-darwin module, a NixOS one its NixOS one)
    module = DARWIN_MODULE if host.darwin else MODULE
    # (without a flake: the npins/niv pin, or a fetch of the commit the release needs)
    no_flake, pin_note = module_ref(ctx.root, repo_pin(ctx.read).release)
    if host.darwin:
        no_flake = no_flake.replace("/modules/sops", "/modules/nix-darwin")
    for file, start, _end in host.module_sites:
        rel = file.as_posix()
        where = f"the modules list at {rel}:{line_of(ctx, rel, start)}"
        if rel == "flake.nix":
            return where, module, f" (sops-nix among the outputs arguments, {_flake_input(ctx)})"
        named = _named_there(ctx, rel, start, module)  # (as the file's function can)
        if named is not None and not named.startswith("inputs."):
            return where, named, f" ({_flake_input(ctx)})"
        return where, f"inputs.{module}", f" (inputs: the flake's inputs, {_flake_input(ctx)})"
    if "colmena" in host.source.split("+"):
        hive = sorted(p.as_posix() for p in inventory.definition_files) or ["hive.nix"]
        # in flake.nix the name must be one of the outputs' arguments (bubylou's binds
        # `inputs @ { nixpkgs, … }`: sops-nix was an undefined variable there)
        needs = "sops-nix among the outputs arguments, " if hive[0] == "flake.nix" else ""
        where = f"colmena's defaults.imports in {hive[0]}"
        if not (ctx.root / "flake.nix").is_file():  # a hive without a flake: no input
            return where, no_flake, pin_note
        return where, module, f" ({needs}{_flake_input(ctx)})"
    entry = host.entry_modules[0].as_posix() if host.entry_modules else f"host {host.name}"
    if (ctx.root / "flake.nix").is_file():  # (pure evaluation refuses an unpinned fetch)
        return (
            f"the imports of {entry}",
            f"inputs.{module}",
            f" (inputs: the flake's inputs, handed to modules by specialArgs = {{ inherit "
            f"inputs; }}; {_flake_input(ctx)})",
        )
    return f"the imports of {entry}", no_flake, pin_note


def _named_there(ctx: CheckContext, rel: str, start: int, module: str) -> str | None:
    """How the module list at ``rel``:``start`` can name sops-nix's ``module``, from the
    arguments of the functions around it (notthebee's `{ lib, self, ... }`:
    ``self.inputs.…``; ``inputs.…`` there was an undefined variable)."""
    from secretkit.nix import cst
    from secretkit.nix.input_names import module_name
    from secretkit.nix.wiring import parameters

    data = ctx.read(rel)
    if data is None:
        return None
    tree = cst.parse(data)
    node = tree.root.descendant_for_byte_range(start, start)
    return module_name(parameters(tree, node), module) if node is not None else None
