"""Which hosts exist and which ``.nix`` files each one uses — without evaluating Nix.

Public API::

    discover(root: Path) -> Inventory
    Inventory.hosts: dict[str, Host]            # Host(name, entry_modules, modules, source, inline)
    Inventory.notes: list[Note]                 # Note(file, line, reason): never guessed
    Inventory.unresolved: list[tuple[Path, str]]  # the notes as (file, "line N: why")
    Inventory.external: list[tuple[Path, str]]    # inputs.x.nixosModules.y & co: recorded only
    Inventory.hosts_of_file(path) -> set[str]     # repo-relative or absolute path
    Inventory.hosts_at(path, offset) -> set[str]  # precise where inline modules live (flake.nix)
    Inventory.inline_at(path, offset) -> (start, end) | None  # the inline module there
    Inventory.inline_spans() -> dict[str, list[(start, end)]]  # every inline module, by file
    Inventory.files() -> dict[Path, set[str]]

The package, by what each part holds:

* :mod:`~.model` — ``Host``, ``Inventory`` and ``Note`` (diagnostics are values);
* :mod:`~.files` — parsed files, paths, submodules, and the notes collected;
* :mod:`~.evaluator` — the partial Nix evaluator (scopes, ``let``, ``import``, calls);
* :mod:`~.flake_parts` — flake-parts' ``mkFlake`` module: its ``flake.…`` outputs, ``imports``;
* :mod:`~.closure` — the module closure of each host (imports, home-manager users, …);
* recognisers: :mod:`~.flake` (``nixosConfigurations``, darwin, home-manager,
  flake-parts, deploy-rs), :mod:`~.generated` (``genAttrs``/``mapAttrs``/
  ``listToAttrs``/``readDir``), :mod:`~.haumea`, :mod:`~.colmena`, :mod:`~.clan`,
  :mod:`~.directories` (``hosts/<h>/``, a lone ``configuration.nix``);
* :mod:`~.discovery` — the recognisers in order.

Hosts come from (``Host.source``; a host found in several is joined with ``+``):
``flake``/``darwin``/``home-manager``, ``colmena``, ``clan``/``clan-darwin``,
``deploy-rs``, ``hosts-dir``, ``configuration.nix``.  A directory already imported by
a host (``hosts/common``) is not a host.  Anything that cannot be followed (imports
built from ``builtins.readDir``, ``map``, unknown variables, missing files, paths
outside the repository) is a note with a line number.  Notes name node kinds,
identifiers and paths only, never string contents.  Nothing is evaluated;
tree-sitter only parses.
"""

from secretkit.nix.hosts.discovery import discover
from secretkit.nix.hosts.model import Host, Inventory, Note

__all__ = ["Host", "Inventory", "Note", "discover"]
