"""Why migrate leaves a file with a secret alone when no host's module is that file:
said truly when the file is a flake's values, handed to every module through
``specialArgs`` (a stranger's hook said "no host configuration imports this file" of
a vars.nix flake.nix imports)."""

from __future__ import annotations

from pathlib import Path

from secretkit.nix.hosts.model import Inventory
from secretkit.plan.advice import unowned_reason


def test_a_values_file_a_flake_hands_every_module_is_named_so(tmp_path: Path) -> None:
    (tmp_path / "flake.nix").write_text(
        "{ outputs = { nixpkgs, ... }: { nixosConfigurations.box = nixpkgs.lib.nixosSystem {"
        " specialArgs = { vars = import ./lib/vars.nix; }; modules = [ ./c.nix ]; }; }; }\n"
    )
    inventory = Inventory(tmp_path, {})
    assert unowned_reason(inventory, "lib/vars.nix") == (
        "flake.nix imports this file for its values (vars = import ./lib/vars.nix, handed to "
        "every module): it is no module, and a value moves where a module gives it to an option"
    )
    assert unowned_reason(inventory, "other.nix") == "no host configuration imports this file"
