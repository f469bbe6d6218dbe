"""wiring.py: sops-nix input, module import for every host, host key path — once."""

from __future__ import annotations

import subprocess
from pathlib import Path

from secretkit.nix import cst, wiring
from secretkit.nix.edits import apply_edits
from tests.conftest import need_tool

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "homelab"


def _sources() -> dict[str, bytes]:
    return {p.relative_to(EXAMPLE).as_posix(): p.read_bytes() for p in EXAMPLE.rglob("*.nix")}


def _hosts() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    names = [p.name for p in (EXAMPLE / "hosts").iterdir()]
    modules = {h: ["flake.nix", "modules/common.nix", f"hosts/{h}/default.nix"] for h in names}
    entries = {h: ["modules/common.nix", f"hosts/{h}/default.nix"] for h in names}
    return modules, entries


def _wired(sources: dict[str, bytes]) -> dict[str, bytes]:
    modules, entries = _hosts()
    plan = wiring.plan_wiring(sources, modules, entries, cst.parse)
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


def test_wiring_twice_changes_nothing() -> None:
    once = _wired(_sources())
    assert _wired(once) == once


def test_wired_flake_parses_with_nix(tmp_path: Path) -> None:
    nix = need_tool("nix-instantiate")
    out = _wired(_sources())
    for name in ("flake.nix", "modules/common.nix"):
        file = tmp_path / name.replace("/", "_")
        file.write_bytes(out[name])
        proc = subprocess.run([nix, "--parse", str(file)], capture_output=True)
        assert proc.returncode == 0, proc.stderr.decode()


def test_flake_without_defaults_and_with_universal_outputs() -> None:
    src = (
        b'{\n  inputs.nixpkgs.url = "github:NixOS/nixpkgs";\n'
        b"  outputs = inputs: {\n"
        b"    nixosConfigurations.h = inputs.nixpkgs.lib.nixosSystem {\n"
        b"      modules = [\n        ./h.nix\n      ];\n    };\n"
        b"    colmena = { h = { imports = [ ./h.nix ]; }; };\n  };\n}\n"
    )
    plan = wiring.wire_flake(cst.parse(src))
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
