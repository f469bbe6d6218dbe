"""A module's own switch (``config = mkIf cfg.enable { … }``): the hosts that leave it
off do not use the code under it (secretkit.nix.hosts.guards, Inventory.hosts_at)."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.nix import cst
from secretkit.nix.hosts import discover
from secretkit.nix.hosts.guards import Guard, hosts_off, module_guards

FLAKE = """{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";
  outputs = { self, nixpkgs, ... }: {
    nixosConfigurations.a = nixpkgs.lib.nixosSystem {
      modules = [ ./hosts/a.nix ./modules/backup.nix ];
    };
    nixosConfigurations.b = nixpkgs.lib.nixosSystem {
      modules = [ ./hosts/b.nix ./modules/backup.nix ];
    };
    nixosConfigurations.c = nixpkgs.lib.nixosSystem {
      modules = [ ./hosts/c.nix ./modules/backup.nix { my.backup.enable = true; } ];
    };
  };
}
"""

MODULE = """{ config, lib, ... }:
let
  cfg = config.my.backup;
in
{
  options.my.backup.enable = lib.mkEnableOption "backups";
  config = lib.mkIf cfg.enable {
    services.borgbackup.jobs.home.repo = "ssh://u@backup/./repo";
  };
}
"""


def _guards(text: str) -> list[Guard]:
    return module_guards(cst.parse(text.encode()))


def test_a_let_bound_switch_declared_with_mk_enable_option_guards_the_config() -> None:
    (guard,) = _guards(MODULE)
    assert guard.switch == ("my", "backup", "enable")
    assert MODULE[guard.start : guard.end].startswith("{\n    services.borgbackup")


@pytest.mark.parametrize(
    ("options", "condition", "guarded"),
    [
        ('options.my.backup.enable = lib.mkEnableOption "b";', "config.my.backup.enable", True),
        ('options.my.backup = { enable = mkEnableOption "b"; };', "cfg.enable", True),
        (
            "options.my.backup.enable = lib.mkOption { type = lib.types.bool; default = false; };",
            "cfg.enable",
            True,
        ),
        # a default that is on, or not known: the code may be used by any host
        (
            "options.my.backup.enable = lib.mkOption { type = lib.types.bool; default = true; };",
            "cfg.enable",
            False,
        ),
        ("options.my.backup.enable = lib.mkOption { default = x; };", "cfg.enable", False),
        # declared elsewhere (nixpkgs' services.nginx.enable: other modules turn it on)
        ('options.my.other = lib.mkEnableOption "o";', "config.services.nginx.enable", False),
        # a condition that is not one option
        ('options.my.backup.enable = lib.mkEnableOption "b";', "cfg.enable && x", False),
        ('options.my.backup.enable = lib.mkEnableOption "b";', "!cfg.enable", False),
    ],
)
def test_what_counts_as_a_modules_own_switch(options: str, condition: str, guarded: bool) -> None:
    text = (
        "{ config, lib, ... }:\nlet cfg = config.my.backup; in {\n"
        f"  {options}\n  config = lib.mkIf ({condition}) {{ a = 1; }};\n}}\n"
    )
    assert bool(_guards(text)) is guarded


def test_each_mkif_part_of_a_mkmerge_config_is_a_guard() -> None:
    text = """{ config, lib, ... }:
{
  options.my.a.enable = lib.mkEnableOption "a";
  options.my.b.enable = lib.mkEnableOption "b";
  config = lib.mkMerge [
    { always = 1; }
    (lib.mkIf config.my.a.enable { x = 1; })
    (lib.mkIf config.my.b.enable { y = 2; })
  ];
}
"""
    assert [g.switch for g in _guards(text)] == [("my", "a", "enable"), ("my", "b", "enable")]


def test_a_nested_mkif_is_not_the_modules_config() -> None:
    text = """{ config, lib, ... }:
{
  options.my.a.enable = lib.mkEnableOption "a";
  config.services.x = lib.mkIf config.my.a.enable { y = 1; };
}
"""
    assert _guards(text) == []


@pytest.mark.parametrize(
    ("host_module", "sets"),
    [
        ("{ my.backup.enable = true; }", True),
        ("{ my.backup.enable = false; }", False),  # (helper-129: false never turns it on)
        ("{ my.backup.enable = lib.mkForce false; }", False),
        ("{ my.backup.enable = lib.mkDefault x; }", True),
        ("{ my.backup.enable = !false; }", True),
        ("{ my = { backup = { enable = lib.mkDefault true; }; }; }", True),
        ("{ my.backup = cfg; }", True),  # (above it, not an attrset: anything)
        ("{ my = import ./my.nix; }", True),
        ("{ my.${name}.enable = true; }", True),  # (a name evaluation computes)
        ("{ my.other.enable = true; }", False),
        ('{ options.my.backup.enable = lib.mkEnableOption "b"; }', False),
        ('{ networking.hostName = "b"; }', False),
    ],
)
def test_which_host_modules_may_set_the_switch(host_module: str, sets: bool) -> None:
    guard = Guard(0, 1, ("my", "backup", "enable"))
    tree = cst.parse(host_module.encode())
    off = hosts_off(guard, ["h"], lambda h: [("m.nix", None)], lambda h: True, lambda f: tree)
    assert (off == frozenset()) is sets


def test_a_host_whose_modules_were_not_all_followed_is_kept() -> None:
    guard = Guard(0, 1, ("my", "backup", "enable"))
    tree = cst.parse(b"{ }")
    complete = {"a": True, "b": False}
    off = hosts_off(
        guard, ["a", "b"], lambda h: [("m.nix", None)], complete.__getitem__, lambda f: tree
    )
    assert off == {"a"}


def _repo(root: Path, module: str = MODULE, a: str = "{ my.backup.enable = true; }") -> Path:
    (root / "hosts").mkdir(parents=True)
    (root / "modules").mkdir()
    (root / "flake.nix").write_text(FLAKE)
    (root / "modules" / "backup.nix").write_text(module)
    (root / "hosts" / "a.nix").write_text(a)
    (root / "hosts" / "b.nix").write_text('{ networking.hostName = "b"; }')
    (root / "hosts" / "c.nix").write_text('{ networking.hostName = "c"; }')
    return root


def test_hosts_at_leaves_out_the_hosts_that_leave_the_switch_off(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    inventory = discover(root)
    inside = MODULE.index("services.borgbackup")
    # c turns it on in its inline module in flake.nix; b never does
    assert inventory.hosts_at("modules/backup.nix", inside) == {"a", "c"}
    assert inventory.hosts_at("modules/backup.nix", MODULE.index("options")) == {"a", "b", "c"}
    assert inventory.hosts_of_file("modules/backup.nix") == {"a", "b", "c"}


def test_when_no_host_turns_the_switch_on_every_host_keeps_the_code(tmp_path: Path) -> None:
    root = _repo(tmp_path, a='{ networking.hostName = "a"; }')
    flake = (root / "flake.nix").read_text().replace(" { my.backup.enable = true; }", "")
    (root / "flake.nix").write_text(flake)
    inventory = discover(root)
    inside = MODULE.index("services.borgbackup")
    assert inventory.hosts_at("modules/backup.nix", inside) == {"a", "b", "c"}


def test_config_users_are_the_hosts_that_turn_the_switch_on(tmp_path: Path) -> None:
    """helper-129: check's by-hand steps for a module value (an mkOption default) named
    every host's file; migrate stores it for the hosts using the guarded config."""
    inventory = discover(_repo(tmp_path))
    assert inventory.config_users("modules/backup.nix") == {"a", "c"}
    assert inventory.config_users("hosts/b.nix") == {"b"}
