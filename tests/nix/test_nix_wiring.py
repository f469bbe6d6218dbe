"""wiring.py: sops-nix input, module import for every host, host key path — once."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from secretkit.nix import cst, sops_nix_pins, wiring
from secretkit.nix.edits import apply_edits
from secretkit.nix.hosts import discover
from tests.conftest import need_tool

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "homelab"


def _sources() -> dict[str, bytes]:
    return {p.relative_to(EXAMPLE).as_posix(): p.read_bytes() for p in EXAMPLE.rglob("*.nix")}


def _wired(sources: dict[str, bytes], root: Path = EXAMPLE) -> dict[str, bytes]:
    plan = wiring.plan_wiring(sources, discover(root), cst.parse)
    out = dict(sources)
    for path, edits in plan.edits.items():
        out[path] = apply_edits(sources[path], edits)
    return out


def test_wires_the_example_flake() -> None:
    sources = _sources()
    out = _wired(sources)
    flake = out["flake.nix"].decode()
    assert 'sops-nix.url = "github:Mic92/sops-nix";' in flake
    assert 'sops-nix.inputs.nixpkgs.follows = "nixpkgs";' in flake
    assert "outputs = { self, nixpkgs, colmena, sops-nix, ... }:" in flake
    hosts = len(list((EXAMPLE / "hosts").iterdir()))
    # every nixosSystem plus colmena's defaults
    assert flake.count("sops-nix.nixosModules.sops") == hosts + 1
    assert "imports = [ ./modules/common.nix sops-nix.nixosModules.sops ];" in flake
    common = out["modules/common.nix"].decode()
    assert 'sops.age.sshKeyPaths = [ "/etc/ssh/ssh_host_ed25519_key" ];' in common
    changed = {p for p in out if out[p] != sources[p]}
    assert changed == {"flake.nix", "modules/common.nix"}


def test_wiring_twice_changes_nothing(tmp_path: Path) -> None:
    once = _wired(_sources())
    for rel, data in once.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    assert _wired(once, tmp_path) == once


def test_wired_flake_parses_with_nix(tmp_path: Path) -> None:
    nix = need_tool("nix-instantiate")
    out = _wired(_sources())
    for name in ("flake.nix", "modules/common.nix"):
        file = tmp_path / name.replace("/", "_")
        file.write_bytes(out[name])
        proc = subprocess.run([nix, "--parse", str(file)], capture_output=True)
        assert proc.returncode == 0, proc.stderr.decode()


def test_flake_without_defaults_and_with_universal_outputs(tmp_path: Path) -> None:
    src = (
        b'{\n  inputs.nixpkgs.url = "github:NixOS/nixpkgs";\n'
        b"  outputs = inputs: {\n"
        b"    nixosConfigurations.h = inputs.nixpkgs.lib.nixosSystem {\n"
        b"      modules = [\n        ./h.nix\n      ];\n    };\n"
        b"    colmena = { h = { imports = [ ./h.nix ]; }; };\n  };\n}\n"
    )
    (tmp_path / "flake.nix").write_bytes(src)
    (tmp_path / "h.nix").write_bytes(b"{ ... }: { }\n")
    plan = wiring.wire_modules({"flake.nix": src}, discover(tmp_path).hosts, cst.parse)
    out = apply_edits(src, plan.edits["flake.nix"]).decode()
    assert 'inputs.sops-nix.url = "github:Mic92/sops-nix";' in out
    assert "        ./h.nix\n        inputs.sops-nix.nixosModules.sops\n" in out
    assert "defaults.imports = [ inputs.sops-nix.nixosModules.sops ];" in out
    assert not cst.parse(out.encode()).has_errors


def test_key_path_goes_to_each_host_without_a_common_module() -> None:
    sources = {"a.nix": b"{ ... }: { }\n", "b.nix": b"{ x = 1; }\n"}
    plan = wiring.wire_host_key(
        sources, {"a": ["a.nix"], "b": ["b.nix"]}, {"a": ["a.nix"], "b": ["b.nix"]}, cst.parse
    )
    assert sorted(plan.edits) == ["a.nix", "b.nix"]


def test_existing_key_source_is_respected() -> None:
    sources = {"a.nix": b'{ sops.age.keyFile = "/var/lib/sops-nix/key.txt"; }\n'}
    plan = wiring.wire_host_key(sources, {"a": ["a.nix"]}, {"a": ["a.nix"]}, cst.parse)
    assert plan.edits == {}


def test_host_key_goes_inside_config_of_a_module_that_declares_options() -> None:
    common = (
        b"{ config, lib, ... }:\n{\n"
        b'  options.lab.admin = lib.mkOption { default = "ops"; };\n'
        b"  config = {\n    services.openssh.enable = true;\n  };\n}\n"
    )
    sources = {"common.nix": common, "a.nix": b"{ ... }: { }\n", "b.nix": b"{ ... }: { }\n"}
    modules = {"a": ["common.nix", "a.nix"], "b": ["common.nix", "b.nix"]}
    plan = wiring.wire_host_key(sources, modules, modules, cst.parse)
    out = apply_edits(common, plan.edits["common.nix"]).decode()
    config_part = out.split("config = {", 1)[1]
    assert 'sops.age.sshKeyPaths = [ "/etc/ssh/ssh_host_ed25519_key" ];' in config_part
    assert out.rstrip().endswith("};\n}") or out.rstrip().endswith("}")
    assert out.count("sops.age.sshKeyPaths") == 1
    assert out.index("sops.age.sshKeyPaths") > out.index("config = {")


def test_host_key_never_goes_into_a_colmena_hive_file() -> None:
    """A hive.nix without ``defaults`` is in every host's closure, but an option set at its
    top would be read by colmena as one more node: the key path goes to the shared
    module instead (common.nix before cachix.nix)."""
    hive = (
        b"{\n  meta.nixpkgs = ./pkgs;\n"
        b"  aibo = { ... }: { imports = [ ./aibo.nix ]; };\n"
        b"  kumo = { ... }: { imports = [ ./kumo.nix ]; };\n}\n"
    )
    sources = {
        "hive.nix": hive,
        "modules/cachix.nix": b"{ ... }: { nix.settings.substituters = [ ]; }\n",
        "modules/common.nix": b'{ config, ... }: { time.timeZone = "UTC"; }\n',
        "aibo.nix": b"{ ... }: { }\n",
        "kumo.nix": b"{ ... }: { }\n",
    }
    shared = ["hive.nix", "modules/cachix.nix", "modules/common.nix"]
    modules = {"aibo": [*shared, "aibo.nix"], "kumo": [*shared, "kumo.nix"]}
    plan = wiring.wire_host_key(
        sources, modules, {"aibo": ["aibo.nix"], "kumo": ["kumo.nix"]}, cst.parse
    )
    assert sorted(plan.edits) == ["modules/common.nix"]
    out = apply_edits(sources["modules/common.nix"], plan.edits["modules/common.nix"])
    assert b"sops.age.sshKeyPaths" in out
    assert not cst.parse(out).has_errors


# --- where each host's modules are: found by host discovery, wherever it is --------

WIRED_NIX = Path(__file__).resolve().parent / "harness" / "wired.nix"

FLAKE_IMPORTING_HOSTS = """{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";
  outputs = { self, nixpkgs, ... }@inputs: {
    nixosConfigurations = import ./nixos { inherit inputs; inherit (nixpkgs) lib; };
  };
}
"""
HOSTS_BUILDER = """{ inputs, lib }:
let
  machines = lib.attrNames
    (lib.filterAttrs (_: t: t == "directory") (builtins.readDir ../machines));
in
lib.genAttrs machines (name:
  lib.nixosSystem {
    system = "x86_64-linux";
    specialArgs = { inherit inputs; };
    modules = [
      ../machines/${name}
      ../modules/common.nix
    ];
  })
"""
MACHINE = '{ config, ... }:\n{\n  networking.hostName = "NAME";\n}\n'
COMMON = "{ lib, ... }:\n{\n  services.openssh.enable = true;\n}\n"


def _repo(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def _wire_in_place(root: Path) -> wiring.Wiring:
    """Plan the wiring of the repository at ``root`` and write its edits there."""
    sources = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.nix")}
    plan = wiring.plan_wiring(sources, discover(root), cst.parse)
    for rel, edits in plan.edits.items():
        (root / rel).write_bytes(apply_edits(sources[rel], edits))
    return plan


def _has_sops(root: Path) -> dict[str, dict[str, bool]]:
    """Per host, whether a module declaring sops-nix's options reaches it (real Nix
    evaluation of the flake with stub inputs, every edited file parsed by Nix first)."""
    nix = need_tool("nix-instantiate")
    for file in root.rglob("*.nix"):
        proc = subprocess.run([nix, "--parse", str(file)], capture_output=True)
        assert proc.returncode == 0, proc.stderr.decode()
    proc = subprocess.run(
        [nix, "--eval", "--strict", "--json", str(WIRED_NIX), "--arg", "dir", str(root)],
        capture_output=True,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    result: dict[str, dict[str, bool]] = json.loads(proc.stdout)
    return result


def test_module_goes_where_nixos_system_is_called_in_another_file(tmp_path: Path) -> None:
    machines = {f"machines/{h}/default.nix": MACHINE.replace("NAME", h) for h in ("a", "b")}
    root = _repo(
        tmp_path,
        {
            "flake.nix": FLAKE_IMPORTING_HOSTS,
            "nixos/default.nix": HOSTS_BUILDER,
            "modules/common.nix": COMMON,
            **machines,
        },
    )
    assert _has_sops(root)["nixos"] == {"a": False, "b": False}
    plan = _wire_in_place(root)
    assert sorted(plan.edits) == ["flake.nix", "modules/common.nix", "nixos/default.nix"]
    builder = (root / "nixos/default.nix").read_text()
    assert "      ../modules/common.nix\n      inputs.sops-nix.nixosModules.sops\n" in builder
    assert 'sops-nix.url = "github:Mic92/sops-nix";' in (root / "flake.nix").read_text()
    assert _has_sops(root)["nixos"] == {"a": True, "b": True}
    assert not any("cannot" in note for note in plan.notes)
    again = _wire_in_place(root)
    assert again.edits == {} and again.notes == []


def test_a_builder_that_cannot_reach_the_input_is_a_by_hand_line(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        {
            "flake.nix": FLAKE_IMPORTING_HOSTS.replace("inherit inputs; ", ""),
            "nixos/default.nix": HOSTS_BUILDER.replace("{ inputs, lib }", "{ lib }").replace(
                "inherit inputs; ", ""
            ),
            "machines/a/default.nix": MACHINE.replace("NAME", "a"),
            "modules/common.nix": COMMON,
        },
    )
    plan = wiring.plan_wiring(
        {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.nix")},
        discover(root),
        cst.parse,
    )
    assert "nixos/default.nix" not in plan.edits and "flake.nix" not in plan.edits
    assert plan.notes[0] == (
        "cannot wire sops-nix for a: nixos/default.nix:10 cannot name the sops-nix input; "
        "pass it to nixos/default.nix (as an argument sops-nix) and add "
        "sops-nix.nixosModules.sops to this modules list by hand"
    )
    # a host left without the module: migrate must not write sops options for it (they
    # would not evaluate: "The option `sops' does not exist")
    assert plan.unwired == {"a"}
    error = plan.unwired_error({"a"})
    assert error is not None and "not imported by a, and migrate cannot add it" in error.message
    assert plan.notes[0] in error.message  # (without --dry-run the error is all migrate says)
    assert plan.unwired_error({"b"}) is None


BASE_WITH_SOPS = (
    "{ config, lib, inputs, ... }:\n{\n"
    '  imports = [ inputs."sops-nix".nixosModules.sops ];\n'
    '  networking.hostName = lib.mkDefault "base";\n'
    "  services.openssh.enable = true;\n}\n"
)
HIVE = """{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";
  inputs.sops-nix.url = "github:Mic92/sops-nix";
  outputs = { self, nixpkgs, sops-nix, ... }@inputs: {
    colmena = {
      meta.specialArgs = { inherit inputs; };
      defaults = DEFAULTS;
      web = { config, ... }: { imports = [ ./hosts/web.nix ]; };
      networking = { config, ... }: { imports = [ ./hosts/networking.nix ]; };
    };
  };
}
"""
NODE = '{ config, ... }:\n{\n  networking.hostName = "NAME";\n}\n'
SHARED_LIST = """{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";
  inputs.sops-nix.url = "github:Mic92/sops-nix";
  outputs = { self, nixpkgs, sops-nix, ... }:
    let
      baseModules = [ BASE ];
    in {
      nixosConfigurations = {
        web = nixpkgs.lib.nixosSystem {
          modules = baseModules ++ [ ./hosts/web.nix ];
        };
        networking = nixpkgs.lib.nixosSystem {
          modules = baseModules
            ++ [ ./hosts/networking.nix ];
        };
      };
    };
}
"""


@pytest.mark.parametrize(
    ("flake", "base"),
    [
        (HIVE.replace("DEFAULTS", "import ./base.nix"), BASE_WITH_SOPS),
        (HIVE.replace("DEFAULTS", "{ imports = [ ./base.nix ]; }"), BASE_WITH_SOPS),
        (SHARED_LIST.replace("BASE", "sops-nix.nixosModules.sops"), COMMON),
        (
            SHARED_LIST.replace("BASE", "inputs.sops-nix.nixosModules.sops").replace(
                "{ self, nixpkgs, sops-nix, ... }:", "{ self, nixpkgs, ... }@inputs:"
            ),
            COMMON,
        ),
    ],
    ids=["defaults-import", "defaults-imports-list", "modules-variable", "inputs-attribute"],
)
def test_hosts_that_import_sops_nix_already_get_no_edit_and_no_note(
    tmp_path: Path, flake: str, base: str
) -> None:
    nodes = {f"hosts/{h}.nix": NODE.replace("NAME", h) for h in ("web", "networking")}
    root = _repo(tmp_path, {"flake.nix": flake, "base.nix": base, **nodes})
    before = _has_sops(root)
    assert set(before["nixos"].values()) | set(before["colmena"].values()) == {True}
    plan = _wire_in_place(root)
    # nothing by hand: no "not an attrset", "no modules list", "not a module attrset"
    assert not [n for n in plan.notes if "by hand" in n or "cannot" in n or " not " in n]
    assert not any(b"nixosModules" in edit.text.encode() for e in plan.edits.values() for edit in e)
    if "defaults" in flake:  # the key path goes into base.nix, a plain module
        assert sorted(plan.edits) == ["base.nix"]
        assert "sops.age.sshKeyPaths" in (root / "base.nix").read_text()


@pytest.mark.parametrize(
    ("flake", "expected"),
    [
        (
            HIVE.replace("DEFAULTS", "import ./base.nix"),
            "defaults = { imports = [ (import ./base.nix) sops-nix.nixosModules.sops ]; };",
        ),
        (
            HIVE.replace("DEFAULTS", "{ imports = [ ./base.nix ]; }"),
            "defaults = { imports = [ ./base.nix sops-nix.nixosModules.sops ]; };",
        ),
        (
            SHARED_LIST.replace("BASE", "./base.nix"),
            "modules = baseModules ++ [ ./hosts/web.nix ] ++ [ sops-nix.nixosModules.sops ];",
        ),
    ],
    ids=["defaults-import", "defaults-imports-list", "modules-variable"],
)
def test_hosts_without_sops_nix_get_it_once(tmp_path: Path, flake: str, expected: str) -> None:
    nodes = {f"hosts/{h}.nix": NODE.replace("NAME", h) for h in ("web", "networking")}
    root = _repo(tmp_path, {"flake.nix": flake, "base.nix": COMMON, **nodes})
    plan = _wire_in_place(root)
    assert expected in (root / "flake.nix").read_text()
    after = _has_sops(root)
    assert set(after["nixos"].values()) | set(after["colmena"].values()) == {True}
    assert not any("cannot" in note for note in plan.notes)
    assert _wire_in_place(root).edits == {}


def test_a_host_whose_modules_may_bring_sops_nix_is_not_edited_but_named(tmp_path: Path) -> None:
    """A flake input's module could import sops-nix itself: adding a second copy from
    another input would declare its options twice, so the host is named instead."""
    flake = SHARED_LIST.replace("BASE", "inputs.hardware.nixosModules.common-cpu-amd")
    flake = flake.replace("{ self, nixpkgs, sops-nix, ... }:", "{ self, nixpkgs, ... }@inputs:")
    nodes = {f"hosts/{h}.nix": NODE.replace("NAME", h) for h in ("web", "networking")}
    root = _repo(tmp_path, {"flake.nix": flake, **nodes})
    plan = wiring.wire_modules({"flake.nix": flake.encode()}, discover(root).hosts, cst.parse)
    assert plan.edits == {}
    assert plan.notes == [
        "cannot tell whether networking, web import sops-nix's NixOS module: it is not "
        "among the modules secretkit can read, but may come through one it cannot (such "
        "as the module inputs.hardware.nixosModules.common-cpu-amd); if it does not, add "
        "sops-nix.nixosModules.sops to their modules"
    ]


# --- a colmena hive without a flake (hive.nix with niv/npins sources) ------------------

PLAIN_HIVE = """let
  sources = import ./npins;
in
{
  meta.nixpkgs = import sources.nixpkgs { };
  defaults = { ... }: { imports = [ ./base.nix IMPORT ]; };
  web = import ./hosts/web.nix;
  networking = { ... }: { imports = [ ./hosts/networking.nix ]; };
}
"""


def test_a_hive_without_a_flake_is_told_the_module_path_not_a_flake_output(
    tmp_path: Path,
) -> None:
    """Without a flake there is no ``sops-nix`` input to name: the by-hand line gives
    the module's path, and once it is there (as written) the hosts count as wired."""
    nodes = {f"hosts/{h}.nix": NODE.replace("NAME", h) for h in ("web", "networking")}
    files = {"hive.nix": PLAIN_HIVE.replace("IMPORT", ""), "base.nix": COMMON, **nodes}
    root = _repo(tmp_path, files)
    plan = _wire_in_place(root)
    (note,) = [n for n in plan.notes if "cannot wire" in n]
    assert wiring.NO_FLAKE_MODULE in note and "nixosModules" not in note
    assert "unpinned" in note and "nix-prefetch-url --unpack" in note  # said, not silent
    hosts = discover(root).hosts
    assert {h.imports_sops_nix() for h in hosts.values()} == {False}
    hive = PLAIN_HIVE.replace("IMPORT", wiring.NO_FLAKE_MODULE)  # the line, followed
    (root / "hive.nix").write_text(hive)
    proc = subprocess.run([need_tool("nix-instantiate"), "--parse", str(root / "hive.nix")])
    assert proc.returncode == 0
    assert {h.imports_sops_nix() for h in discover(root).hosts.values()} == {True}
    assert not [n for n in _wire_in_place(root).notes if "sops-nix" in n and "cannot" in n]


@pytest.mark.parametrize(
    "module",
    ['"${sources.sops-nix}/modules/sops"', '"${(import ./npins).sops-nix}/modules/sops/"'],
)
def test_a_pinned_sops_nix_source_counts_as_its_module(tmp_path: Path, module: str) -> None:
    nodes = {f"hosts/{h}.nix": NODE.replace("NAME", h) for h in ("web", "networking")}
    files = {"hive.nix": PLAIN_HIVE.replace("IMPORT", module), "base.nix": COMMON, **nodes}
    root = _repo(tmp_path, files)
    assert {h.imports_sops_nix() for h in discover(root).hosts.values()} == {True}


def test_a_module_path_of_another_source_is_still_not_known(tmp_path: Path) -> None:
    nodes = {f"hosts/{h}.nix": NODE.replace("NAME", h) for h in ("web", "networking")}
    module = '"${sources.agenix}/modules/age.nix"'
    files = {"hive.nix": PLAIN_HIVE.replace("IMPORT", module), "base.nix": COMMON, **nodes}
    root = _repo(tmp_path, files)
    assert {h.imports_sops_nix() for h in discover(root).hosts.values()} == {None}


FLAKE_PARTS = {
    "flake.nix": (
        '{\n  inputs.flake-parts.url = "github:hercules-ci/flake-parts";\n'
        "  outputs = inputs: inputs.flake-parts.lib.mkFlake { inherit inputs; } {\n"
        '    systems = [ "x86_64-linux" ];\n    imports = [ ./hosts ];\n  };\n}\n'
    ),
    "hosts/default.nix": (
        "{ inputs, ... }:\n{\n  flake.nixosConfigurations = {\n"
        "    a = inputs.nixpkgs.lib.nixosSystem {\n"
        '      modules = [ ./a ../system/tools.nix { networking.hostName = "a"; } ];\n'
        "    };\n"
        "    b = inputs.nixpkgs.lib.nixosSystem {\n"
        "      modules = [ ./b ../system/tools.nix ];\n"
        "    };\n  };\n}\n"
    ),
    "hosts/a/default.nix": "{ ... }: { services.openssh.enable = true; }\n",
    "hosts/b/default.nix": "{ ... }: { services.openssh.enable = true; }\n",
    "system/tools.nix": "{ pkgs, ... }:\n{\n  environment.systemPackages = [ pkgs.git ];\n}\n",
    "lib/colors.nix": 'lib: { red = "#ff0000"; }\n',
}


def _keyed(root: Path) -> set[str]:
    """The files the wiring of ``root`` gives sops.age.sshKeyPaths (not written)."""
    plan = wiring.plan_wiring(
        {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.nix")},
        discover(root),
        cst.parse,
    )
    return {
        path
        for path, edits in plan.edits.items()
        if b"sshKeyPaths" in apply_edits((root / path).read_bytes(), edits)
    }


def test_the_host_key_goes_into_a_module_not_the_flake_parts_file(tmp_path: Path) -> None:
    """hosts/default.nix holds every host's inline module, but it is a flake-parts
    module (no `sops` option there: the flake would not evaluate); a file imported for
    its value is no module either.  The shared NixOS module gets the key path."""
    files = dict(FLAKE_PARTS)
    files["system/tools.nix"] = (
        "{ pkgs, lib, ... }:\nlet colors = import ../lib/colors.nix lib; in\n{\n"
        "  environment.systemPackages = [ pkgs.git ];\n}\n"
    )
    root = _repo(tmp_path, files)
    keyed = _keyed(root)
    assert keyed == {"system/tools.nix"}


def test_the_host_key_never_goes_into_a_module_a_darwin_system_imports(tmp_path: Path) -> None:
    """A stranger's migrate put sops.age.sshKeyPaths into common.nix, which the
    darwin system imports too (it has no sops options: its evaluation fails).  The
    key goes into a module only NixOS hosts import: each host's own here."""
    root = _repo(
        tmp_path,
        {
            "flake.nix": (
                '{ inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";\n'
                "  outputs = { nixpkgs, darwin, sops-nix, ... }: {\n"
                "    nixosConfigurations.web = nixpkgs.lib.nixosSystem {\n"
                "      modules = [ sops-nix.nixosModules.sops ./common.nix ./web.nix ]; };\n"
                "    nixosConfigurations.plain = nixpkgs.lib.nixosSystem {\n"
                "      modules = [ ./common.nix ./plain.nix ]; };\n"
                "    darwinConfigurations.mac = darwin.lib.darwinSystem {\n"
                "      modules = [ ./common.nix ]; };\n  };\n}\n"
            ),
            "common.nix": '{ time.timeZone = "UTC"; }\n',
            "web.nix": '{ networking.hostName = "web"; }\n',
            "plain.nix": '{ networking.hostName = "plain"; }\n',
        },
    )
    keyed = _keyed(root)
    assert keyed == {"plain.nix", "web.nix"}


def test_a_host_built_on_a_nixpkgs_installer_module_is_wired(tmp_path: Path) -> None:
    """`"${nixpkgs}/nixos/modules/installer/cd-dvd/installation-cd-minimal.nix"` cannot
    bring sops-nix: migrate said "cannot tell whether installer imports sops-nix's
    module", wrote sops.secrets there anyway, and the host did not evaluate."""
    root = _repo(
        tmp_path,
        {
            "flake.nix": (
                '{ inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";\n'
                "  outputs = { self, nixpkgs, ... }: {\n"
                "    nixosConfigurations.installer = nixpkgs.lib.nixosSystem {\n"
                '      modules = [ "${nixpkgs}/nixos/modules/installer/cd-dvd/'
                'installation-cd-minimal.nix" ./installer.nix ];\n    };\n  };\n}\n'
            ),
            "installer.nix": '{ networking.hostName = "installer"; }\n',
        },
    )
    plan = _wire_in_place(root)
    assert not any("cannot tell" in note for note in plan.notes), plan.notes
    assert "sops-nix.nixosModules.sops" in (root / "flake.nix").read_text()


def test_a_file_of_the_flakes_inputs_naming_sops_nix_gets_the_input(tmp_path: Path) -> None:
    """BonusPlay/sysconf: nixosConfigurations = import ./machines inputs; the agenix
    import put sops-nix.nixosModules.sops into machines/default.nix (which takes
    { nixpkgs, sops-nix, ... }@inputs) and removed the agenix input, but flake.nix got
    no sops-nix input: the flake did not evaluate."""
    (tmp_path / "flake.nix").write_text(
        '{\n  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";\n'
        "  outputs = inputs: { nixosConfigurations = import ./machines inputs; };\n}\n"
    )
    (tmp_path / "machines").mkdir()
    (tmp_path / "machines" / "default.nix").write_text(
        "{ nixpkgs, sops-nix, ... }@inputs: {\n  h = nixpkgs.lib.nixosSystem { modules = "
        "[ ./h.nix sops-nix.nixosModules.sops ]; };\n}\n"
    )
    (tmp_path / "machines" / "h.nix").write_text("{ config, ... }: { sops.secrets.x = { }; }\n")
    _wire_in_place(tmp_path)
    flake = (tmp_path / "flake.nix").read_text()
    assert 'sops-nix.url = "github:Mic92/sops-nix";' in flake
    assert 'sops-nix.inputs.nixpkgs.follows = "nixpkgs";' in flake
    nix = need_tool("nix-instantiate")
    proc = subprocess.run([nix, "--parse", str(tmp_path / "flake.nix")], capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()


def test_the_host_key_path_does_not_go_into_an_option_modules_mkif(tmp_path: Path) -> None:
    """BonusPlay/sysconf: sops.age.sshKeyPaths was written into `config = lib.mkIf
    cfg.enable { … }` of an optional monitoring module every host imports: it counts
    only while that module is enabled.  It goes into each host's own module instead."""
    (tmp_path / "flake.nix").write_text(
        "{ outputs = { nixpkgs, sops-nix, ... }: {\n"
        "  nixosConfigurations.a = nixpkgs.lib.nixosSystem { modules = "
        "[ ./a.nix ./monitoring.nix sops-nix.nixosModules.sops ]; };\n"
        "  nixosConfigurations.b = nixpkgs.lib.nixosSystem { modules = "
        "[ ./b.nix ./monitoring.nix sops-nix.nixosModules.sops ]; };\n}; }\n"
    )
    (tmp_path / "monitoring.nix").write_text(
        "{ config, lib, ... }: let cfg = config.my.monitoring; in {\n"
        '  options.my.monitoring.enable = lib.mkEnableOption "m";\n'
        "  config = lib.mkIf cfg.enable { services.prometheus.enable = true; };\n}\n"
    )
    for host in ("a", "b"):
        (tmp_path / f"{host}.nix").write_text("{ config, ... }: { sops.secrets.x = { }; }\n")
    _wire_in_place(tmp_path)
    assert "sshKeyPaths" not in (tmp_path / "monitoring.nix").read_text()
    for host in ("a", "b"):
        assert "sops.age.sshKeyPaths" in (tmp_path / f"{host}.nix").read_text()


def test_a_host_whose_unread_modules_cannot_bring_sops_nix_is_wired(tmp_path: Path) -> None:
    """A stranger's flake-parts homelab: `modules = shared ++ [ … ]` with `shared` built by
    a call secretkit does not read, no sops-nix input, and a lock without it.  migrate
    said "cannot tell whether … import sops-nix's NixOS module", wrote `sops.*` into
    every host and left sops-nix out: no host evaluated.  Nothing unread can bring
    sops-nix here, so the module is added like any missing one."""
    flake = (
        '{\n  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";\n'
        "  outputs = { self, nixpkgs, ... }: let\n    shared = mkShared ./modules;\n  in {\n"
        "    nixosConfigurations.web = nixpkgs.lib.nixosSystem {\n"
        "      modules = shared ++ [ ./hosts/web.nix ];\n    };\n  };\n}\n"
    )
    lock = (
        '{"nodes": {"nixpkgs": {"locked": {"owner": "NixOS", "repo": "nixpkgs", '
        '"type": "github"}}, "root": {"inputs": {"nixpkgs": "nixpkgs"}}}, '
        '"root": "root", "version": 7}\n'
    )
    node = '{ ... }: { networking.hostName = "web"; }\n'
    root = _repo(tmp_path, {"flake.nix": flake, "flake.lock": lock, "hosts/web.nix": node})
    plan = _wire_in_place(root)
    assert not any("cannot tell" in note for note in plan.notes), plan.notes
    assert "sops-nix.nixosModules.sops" in (root / "flake.nix").read_text()
    # the same repository with a file naming sops-nix (it may come through there)
    other = tmp_path / "other"
    _repo(other, {"flake.nix": flake, "flake.lock": lock, "hosts/web.nix": node})
    _repo(other, {"modules/x.nix": "{ inputs, ... }: { imports = [ inputs.sops-nix.x ]; }\n"})
    assert any("cannot tell" in note for note in _wire_in_place(other).notes)


def test_snowfall_systems_get_the_module_in_their_shared_list(tmp_path: Path) -> None:
    """A stranger's snowfall-lib homelab: "cannot wire sops-nix for a, b: add sops-nix's
    NixOS module … by hand", with no place named, though `systems.modules.nixos = [ ];`
    (which snowfall adds to every system) was in the mkFlake call."""
    src = (
        b'{\n  inputs.nixpkgs.url = "github:nixos/nixpkgs/nixos-25.05";\n'
        b"  outputs = inputs:\n    inputs.snowfall-lib.mkFlake {\n"
        b"      inherit inputs;\n      src = ./.;\n      systems.modules.nixos = [ ];\n    };\n}\n"
    )
    (tmp_path / "flake.nix").write_bytes(src)
    for host in ("a", "b"):
        (tmp_path / "systems" / "x86_64-linux" / host).mkdir(parents=True)
        (tmp_path / "systems" / "x86_64-linux" / host / "default.nix").write_text("{ ... }: { }\n")
    plan = wiring.wire_modules({"flake.nix": src}, discover(tmp_path).hosts, cst.parse)
    assert not [n for n in plan.notes if n.startswith("cannot wire")]
    out = apply_edits(src, plan.edits["flake.nix"]).decode()
    assert "systems.modules.nixos = [ inputs.sops-nix.nixosModules.sops ];" in out
    assert 'sops-nix.url = "github:Mic92/sops-nix";' in out
    assert not cst.parse(out.encode()).has_errors
    (tmp_path / "flake.nix").write_text(out)  # wired: found as imported
    assert all(h.imports_sops_nix() for h in discover(tmp_path).hosts.values())


def test_snowfall_without_a_shared_list_gets_one_in_the_mkflake_call(tmp_path: Path) -> None:
    """helper-105: snowfall's minimal flake has no `systems.modules.nixos`: migrate said
    "cannot wire sops-nix … by hand" and refused."""
    src = (
        b'{\n  inputs.nixpkgs.url = "github:nixos/nixpkgs/nixos-25.05";\n'
        b"  outputs = inputs:\n    inputs.snowfall-lib.mkFlake {\n"
        b"      inherit inputs;\n      src = ./.;\n    };\n}\n"
    )
    (tmp_path / "flake.nix").write_bytes(src)
    (tmp_path / "systems" / "x86_64-linux" / "a").mkdir(parents=True)
    (tmp_path / "systems" / "x86_64-linux" / "a" / "default.nix").write_text("{ ... }: { }\n")
    plan = wiring.wire_modules({"flake.nix": src}, discover(tmp_path).hosts, cst.parse)
    assert not [n for n in plan.notes if n.startswith("cannot wire")]
    out = apply_edits(src, plan.edits["flake.nix"]).decode()
    assert "systems.modules.nixos = [ inputs.sops-nix.nixosModules.sops ];" in out
    assert not cst.parse(out.encode()).has_errors
    (tmp_path / "flake.nix").write_text(out)
    assert all(h.imports_sops_nix() for h in discover(tmp_path).hosts.values())
    if shutil.which("nix-instantiate"):
        proc = subprocess.run(
            ["nix-instantiate", "--parse", str(tmp_path / "flake.nix")], capture_output=True
        )
        assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    ("release", "commit"),
    [
        (None, None),
        ("23.05", "a11224af8d824935f363928074b4717ca2e280db"),
        ("23.11", "a11224af8d824935f363928074b4717ca2e280db"),
        ("24.05", "c9c88f08e3ee495e888b8d7c8624a0b2519cb773"),
        ("24.11", "3223c7a92724b5d804e9988c6b447a0d09017d48"),
        ("25.05", "17eea6f3816ba6568b8c81db8a4e6ca438b30b7c"),
        ("25.11", None),
        ("26.05", None),
    ],
)
def test_the_sops_nix_input_is_pinned_for_an_older_release(
    release: str | None, commit: str | None
) -> None:
    """helper-119: master's sops-install-secrets needs buildGo125Module (sops-nix
    5c23dc81, "remove compatibility for 25.05 or older"): an unpinned input on a 24.11
    flake does not build.  An older release gets the last commit sops-nix's CI tested
    with it; a newer or unknown one, master."""
    expected = f'"github:Mic92/sops-nix/{commit}"' if commit else '"github:Mic92/sops-nix"'
    assert sops_nix_pins.input_url(release) == expected


def test_migrate_wires_the_pinned_sops_nix_for_the_flakes_release(tmp_path: Path) -> None:
    flake = (
        '{\n  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";\n'
        "  outputs = { nixpkgs, ... }: {\n"
        "    nixosConfigurations.box = nixpkgs.lib.nixosSystem { modules = [ ./box.nix ]; };\n"
        "  };\n}\n"
    )
    (tmp_path / "flake.nix").write_text(flake)
    (tmp_path / "box.nix").write_text("{ config, ... }: { }\n")
    sources = {"flake.nix": flake.encode(), "box.nix": b"{ config, ... }: { }\n"}
    wired = wiring.plan_wiring(sources, discover(tmp_path), cst.parse, release="24.11")
    new = apply_edits(sources["flake.nix"], wired.edits["flake.nix"]).decode()
    assert (
        'inputs.sops-nix.url = "github:Mic92/sops-nix/3223c7a92724b5d804e9988c6b447a0d09017d48";'
        in new
    )
    assert any("pinned for NixOS 24.11" in note for note in wired.notes)
