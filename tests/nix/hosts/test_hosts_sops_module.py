"""Whether each host's module closure imports sops-nix's NixOS module (Host.imports_sops_nix):
True wherever discovery follows it, None when it may hide behind what it cannot follow,
False only when the whole closure was read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secretkit.nix.hosts import discover
from tests.keys.layouts import write

HOST = '{ config, ... }: { networking.hostName = "h"; }\n'
PLAIN_FLAKE = (
    '{\n  inputs.sops-nix.url = "github:Mic92/sops-nix";\n'
    "  outputs = { self, nixpkgs, sops-nix, ... }@inputs: {\n"
    "    nixosConfigurations.h = nixpkgs.lib.nixosSystem {\n      modules = MODULES;\n    };\n"
    "  };\n}\n"
)
SOPS = "sops-nix.nixosModules.sops"


def _lock(mine_inputs: dict[str, object], extra: dict[str, object]) -> str:
    """A flake.lock: the root's inputs nixpkgs and `mine` (whose inputs are given)."""
    nodes: dict[str, object] = {
        "root": {"inputs": {"nixpkgs": "nixpkgs", "mine": "mine"}},
        "nixpkgs": {"locked": {"owner": "NixOS", "repo": "nixpkgs", "type": "github"}},
        "mine": {"inputs": mine_inputs, "original": {"owner": "x", "repo": "mine"}},
        **extra,
    }
    return json.dumps({"nodes": nodes, "root": "root", "version": 7})


LOCK_PLAIN = _lock({"nixpkgs": ["nixpkgs"]}, {})
LOCK_DEP = _lock(
    {"nixpkgs": ["nixpkgs"], "secrets": "sops-nix_2"},
    {"sops-nix_2": {"original": {"owner": "Mic92", "repo": "sops-nix", "type": "github"}}},
)

CASES: dict[str, tuple[dict[str, str], bool | None]] = {
    "in the modules list": (
        {"flake.nix": PLAIN_FLAKE.replace("MODULES", f"[ ./h.nix {SOPS} ]")},
        True,
    ),
    "through a let-bound list": (
        {
            "flake.nix": PLAIN_FLAKE.replace("MODULES", "base ++ [ ./h.nix ]").replace(
                "{\n    nixosConfigurations",
                f"let base = [ {SOPS} ]; in {{\n    nixosConfigurations",
            )
        },
        True,
    ),
    "in a file's imports": (
        {
            "flake.nix": PLAIN_FLAKE.replace("MODULES", "[ ./h.nix ./common ]"),
            "common/default.nix": "{ inputs, ... }: {\n  imports = [ ./sops.nix ];\n}\n",
            "common/sops.nix": (
                '{ inputs, ... }: { imports = [ inputs."sops-nix".nixosModules.sops ]; }\n'
            ),
        },
        True,
    ),
    "in colmena defaults imported from a file": (
        {
            "flake.nix": (
                "{\n  outputs = { self, nixpkgs, ... }@inputs: {\n    colmena = {\n"
                "      defaults = import ./base.nix;\n"
                "      h = { ... }: { imports = [ ./h.nix ]; };\n    };\n  };\n}\n"
            ),
            "base.nix": (
                "{ inputs, ... }: { imports = [ inputs.sops-nix.nixosModules.default ]; }\n"
            ),
        },
        True,
    ),
    "through flake-parts": (
        {
            "flake.nix": (
                "{\n  outputs = inputs@{ flake-parts, nixpkgs, sops-nix, ... }:\n"
                "    flake-parts.lib.mkFlake { inherit inputs; } {\n"
                "      flake.nixosConfigurations.h = nixpkgs.lib.nixosSystem {\n"
                f"        modules = [ ./h.nix {SOPS} ];\n      }};\n    }};\n}}\n"
            )
        },
        True,
    ),
    "nowhere": (
        {
            "flake.nix": PLAIN_FLAKE.replace("MODULES", "[ ./h.nix ./common.nix ]"),
            "common.nix": (
                "{ ... }: { imports = [ <nixpkgs/nixos/modules/profiles/minimal.nix> ]; }\n"
            ),
        },
        False,
    ),
    "nowhere, but a module built from a function argument": (
        {
            "flake.nix": PLAIN_FLAKE.replace("MODULES", "[ ./h.nix ./common.nix ]"),
            "common.nix": "{ extra, ... }: { imports = [ extra.module ]; }\n",
        },
        None,
    ),
    "nowhere, but another flake's module": (
        {"flake.nix": PLAIN_FLAKE.replace("MODULES", "[ ./h.nix inputs.mine.nixosModules.x ]")},
        None,
    ),
    # flake.lock: the input `mine` depends on nixpkgs only, so its module cannot bring
    # sops-nix's (bubylou's nix-minecraft kept migrate from wiring it)
    "nowhere, another flake's module that the lock shows without sops-nix": (
        {
            "flake.nix": PLAIN_FLAKE.replace("MODULES", "[ ./h.nix inputs.mine.nixosModules.x ]"),
            "flake.lock": LOCK_PLAIN,
        },
        False,
    ),
    "nowhere, but another flake's module whose flake depends on sops-nix": (
        {
            "flake.nix": PLAIN_FLAKE.replace("MODULES", "[ ./h.nix inputs.mine.nixosModules.x ]"),
            "flake.lock": LOCK_DEP,
        },
        None,
    ),
    "nowhere, with only well-known flakes' modules": (
        {
            "flake.nix": PLAIN_FLAKE.replace(
                "MODULES", "[ ./h.nix inputs.disko.nixosModules.disko ]"
            )
        },
        False,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_sops_nix_module_in_the_closure(tmp_path: Path, name: str) -> None:
    files, expected = CASES[name]
    inventory = discover(write(tmp_path, {"h.nix": HOST, **files}))
    assert sorted(inventory.hosts) == ["h"]
    host = inventory.hosts["h"]
    assert host.imports_sops_nix() is expected
    if expected is None:  # the way out names what could not be read
        assert host.unseen()
    if expected is False:
        assert host.unseen() == []
