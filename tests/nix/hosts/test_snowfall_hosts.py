"""snowfall-lib flakes: what snowfall puts into each system and home beyond the
systems/ directory (its shared test is the snowfall STYLES of test_discovery_styles)."""

from __future__ import annotations

from pathlib import Path

from secretkit.nix.hosts import discover
from tests.keys.layouts import write


def test_snowfall_homes_are_configurations_and_home_modules_of_their_systems(
    tmp_path: Path,
) -> None:
    """homes/<target>/<user>@<host> goes into <host> (one without @<host> into every
    system of its architecture, an iso target's too), modules/home into every system,
    all as home-manager modules; each home is a homeConfigurations output as well."""
    files = {
        "flake.nix": (
            '{\n  inputs.home-manager.url = "github:nix-community/home-manager";\n'
            "  outputs = inputs: inputs.snowfall-lib.mkFlake {\n"
            "    inherit inputs;\n    src = ./.;\n"
            '    homes.users."alice@alpha".modules = [ ./extra/alice.nix ];\n'
            "  };\n}\n"
        ),
        "systems/x86_64-linux/alpha/default.nix": "{ ... }: { }\n",
        "systems/x86_64-iso/beta/default.nix": "{ ... }: { }\n",
        "systems/aarch64-linux/pi/default.nix": "{ ... }: { }\n",
        "homes/x86_64-linux/alice@alpha/default.nix": "{ ... }: { }\n",
        "homes/x86_64-linux/bob/default.nix": "{ ... }: { }\n",
        "modules/home/shell/default.nix": "{ ... }: { imports = [ ./git.nix ]; }\n",
        "modules/home/shell/git.nix": "{ ... }: { }\n",
        "extra/alice.nix": "{ ... }: { }\n",
    }
    inv = discover(write(tmp_path, files))
    assert {n: h.source for n, h in inv.hosts.items()} == {
        "alice@alpha": "home-manager",
        "alpha": "flake",
        "beta": "flake",
        "bob": "home-manager",
        "pi": "flake",
    }
    assert inv.hosts_of_file("homes/x86_64-linux/alice@alpha/default.nix") == {
        "alice@alpha",
        "alpha",
    }
    assert inv.hosts_of_file("extra/alice.nix") == {"alice@alpha", "alpha"}
    assert inv.hosts_of_file("homes/x86_64-linux/bob/default.nix") == {"alpha", "beta", "bob"}
    every = {"alice@alpha", "alpha", "beta", "bob", "pi"}
    assert inv.hosts_of_file("modules/home/shell/git.nix") == every
    for system in ("alpha", "beta", "pi"):
        assert inv.is_home_module(system, "modules/home/shell/git.nix")
    assert inv.is_home_module("alpha", "homes/x86_64-linux/alice@alpha/default.nix")
    assert inv.unresolved == []


def test_snowfall_without_home_manager_puts_no_home_into_systems(tmp_path: Path) -> None:
    files = {
        "flake.nix": "{ outputs = inputs: inputs.snowfall-lib.mkFlake { inherit inputs; }; }\n",
        "systems/x86_64-linux/alpha/default.nix": "{ ... }: { }\n",
        "modules/home/shell/default.nix": "{ ... }: { }\n",
    }
    inv = discover(write(tmp_path, files))
    assert sorted(inv.hosts) == ["alpha"]
    assert inv.hosts_of_file("modules/home/shell/default.nix") == set()


def test_a_snowfall_module_list_that_cannot_be_read_is_said(tmp_path: Path) -> None:
    files = {
        "flake.nix": (
            "{\n  outputs = inputs: inputs.snowfall-lib.mkFlake {\n    inherit inputs;\n"
            '    systems.hosts.alpha.modules = mkModules "alpha";\n'
            "    systems.modules.nixos = [ ./common.nix ] ++ extra;\n  };\n}\n"
        ),
        "systems/x86_64-linux/alpha/default.nix": "{ ... }: { }\n",
        "common.nix": "{ ... }: { }\n",
    }
    inv = discover(write(tmp_path, files))
    assert inv.hosts_of_file("common.nix") == {"alpha"}
    assert [why for _, why in inv.unresolved] == [
        "line 4: modules built from a call of mkModules",
        "line 5: systems.modules built from the variable extra",
    ]
    assert all(inv.hosts_of_note(n) == {"alpha"} for n in inv.notes)


def test_a_snowfall_system_is_named_by_its_builder(tmp_path: Path) -> None:
    """flake-utils-plus (which snowfall-lib builds systems with) sets networking.hostName
    to the system's name: migrate refused "host a sets no networking.hostName", and a
    module shared by the systems reads secrets/<its name>.yaml."""
    from secretkit.plan.host_names import hostname_mismatches

    files = {
        "flake.nix": "{ outputs = inputs: inputs.snowfall-lib.mkFlake { inherit inputs; }; }\n",
        "systems/x86_64-linux/a/default.nix": "{ ... }: { }\n",
        "systems/x86_64-linux/b/default.nix": '{ ... }: { networking.hostName = "bee"; }\n',
        "systems/x86_64-linux/c.lan/default.nix": "{ ... }: { }\n",
        "modules/nixos/backup/default.nix": "{ ... }: { }\n",
    }
    inv = discover(write(tmp_path, files))
    assert {n: h.named for n, h in inv.hosts.items()} == {"a": True, "b": True, "c.lan": False}
    sources = {rel: text.encode() for rel, text in files.items()}
    problems = [p.message.split(",")[0] for p in hostname_mismatches(sources, inv, {"a", "b"})]
    assert problems == []  # (b's own literal and the builder's conflict: Nix says so)
    (dotted,) = hostname_mismatches(sources, inv, {"c.lan"})
    assert dotted.message.startswith("host c.lan sets no networking.hostName")


def test_a_new_host_is_declared_under_systems_not_under_a_home(tmp_path: Path) -> None:
    """`hosts add` of an unknown name: the hint follows a system's entry module, not the
    home alice@alpha (sorted first, but homes/ makes home-manager configurations)."""
    from secretkit.nix.hosts.declare import declare_hint

    files = {
        "flake.nix": (
            '{\n  inputs.home-manager.url = "github:nix-community/home-manager";\n'
            "  outputs = inputs: inputs.snowfall-lib.mkFlake { inherit inputs; src = ./.; };\n}\n"
        ),
        "systems/x86_64-linux/pebble/default.nix": "{ ... }: { }\n",
        "homes/x86_64-linux/alice@pebble/default.nix": "{ ... }: { }\n",
    }
    hint = declare_hint(discover(write(tmp_path, files)), "newbox")
    assert hint.startswith("create systems/x86_64-linux/newbox/default.nix ")
