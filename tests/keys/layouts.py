"""Repository layouts for discovery tests (built in tmp dirs at run time)."""

from __future__ import annotations

from pathlib import Path

SEED_HOSTS = [
    "observer",
    "immich",
    "syncthing",
    "jellyfin",
    "audiobookshelf",
    "adguarder",
    "stian-dell-nixos",
    "offsite-vm",
]


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def seed_colmena_flake(root: Path) -> Path:
    """The seed's repo: a flake with a colmena hive of 8 hosts, defaults importing a common
    module, the observer with its monitoring module."""
    nodes = "\n".join(
        f"      {h} = {{ imports = [ ./hosts/{h} ]; }};" for h in SEED_HOSTS if h != "observer"
    )
    files = {
        "flake.nix": (
            "{\n"
            '  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";\n'
            '  inputs.colmena.url = "github:zhaofengli/colmena";\n'
            '  inputs.sops-nix.url = "github:Mic92/sops-nix";\n'
            "  outputs = { self, nixpkgs, colmena, ... }@inputs: {\n"
            "    colmenaHive = colmena.lib.makeHive self.colmena;\n"
            "    colmena = {\n"
            '      meta.nixpkgs = import nixpkgs { system = "x86_64-linux"; };\n'
            "      defaults = { pkgs, ... }: {\n"
            "        imports = [ ./modules/common inputs.sops-nix.nixosModules.sops ];\n"
            "      };\n"
            "      observer = { name, nodes, ... }: {\n"
            '        deployment.targetHost = "observer";\n'
            "        imports = [ ./hosts/observer ];\n"
            "      };\n"
            f"{nodes}\n"
            "    };\n"
            "  };\n"
            "}\n"
        ),
        "modules/common/default.nix": (
            "{ pkgs, ... }: {\n  imports = [ ./node-exporter.nix ];\n"
            "  services.tailscale.enable = true;\n}\n"
        ),
        "modules/common/node-exporter.nix": "{ ... }: { services.prometheus.exporters.node.enable = true; }\n",  # noqa: E501
        "hosts/observer/monitoring.nix": "{ config, ... }: { services.prometheus.enable = true; }\n",  # noqa: E501
    }
    for h in SEED_HOSTS:
        extra = " ./monitoring.nix" if h == "observer" else ""
        files[f"hosts/{h}/default.nix"] = (
            "{ config, pkgs, ... }:\n{\n"
            f"  imports = [ ./hardware-configuration.nix{extra} ];\n"
            f'  networking.hostName = "{h}";\n}}\n'
        )
        files[f"hosts/{h}/hardware-configuration.nix"] = "{ ... }: { }\n"
    return write(root, files)
