"""Files a host reads for their value (``creds = import ./creds.nix;``) are told apart
from its modules: no ``config`` reaches them, so no sops declaration can go in them."""

from __future__ import annotations

from pathlib import Path

from secretkit.nix.hosts import discover
from tests.keys.layouts import write

FLAKE = """{
  outputs = { self, nixpkgs, ... }: {
    nixosConfigurations.h = nixpkgs.lib.nixosSystem { modules = [ ./hosts/h/configuration.nix ]; };
  };
}
"""


def _repo(tmp_path: Path, module: str, **files: str) -> Path:
    write(tmp_path, {"flake.nix": FLAKE, "hosts/h/configuration.nix": module, **files})
    return tmp_path


def test_a_let_bound_import_is_a_value_of_its_importer(tmp_path: Path) -> None:
    module = "let creds = import ../../profiles/creds.nix; in { x = creds.a; }\n"
    inv = discover(_repo(tmp_path, module, **{"profiles/creds.nix": "{ a = 1; }\n"}))
    assert inv.hosts_of_file("profiles/creds.nix") == {"h"}
    assert inv.value_importers("profiles/creds.nix") == [Path("hosts/h/configuration.nix")]
    assert inv.value_importers("hosts/h/configuration.nix") is None


def test_an_inline_import_select_is_a_value(tmp_path: Path) -> None:
    module = "{ ... }: { x = (import ./creds.nix).a; }\n"
    inv = discover(_repo(tmp_path, module, **{"hosts/h/creds.nix": "{ a = 1; }\n"}))
    assert inv.value_importers("hosts/h/creds.nix") == [Path("hosts/h/configuration.nix")]


def test_modules_are_not_values(tmp_path: Path) -> None:
    module = (
        "let m = import ./m.nix; in\n"
        "{ imports = [ ./a.nix (import ./b.nix) m ]; x = (import ./a.nix).y; }\n"
    )
    files = {f"hosts/h/{n}.nix": "{ y = 1; }\n" for n in ("a", "b", "m")}
    inv = discover(_repo(tmp_path, module, **files))
    for name in ("a", "b", "m"):  # a module anywhere is a module, however else it is read
        assert inv.hosts_of_file(f"hosts/h/{name}.nix") == {"h"}
        assert inv.value_importers(f"hosts/h/{name}.nix") is None, name
