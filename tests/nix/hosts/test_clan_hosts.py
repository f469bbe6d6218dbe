"""clan-core machines found without evaluating Nix: machines/<name>/, the inventory,
machines.<name> in the call, in the three ways a clan is written."""

from __future__ import annotations

from pathlib import Path

from secretkit.nix.hosts import discover
from tests.keys.layouts import write
from tests.layouts.clan_repo import make_clan

COMMON = "{ ... }: { imports = [ ../../modules/common.nix ]; }\n"
# a flake-parts clan whose modules/parts.nix defines the flake's own nixosModules
PARTS_CLAN_FLAKE = (
    "{\n  outputs = inputs@{ flake-parts, ... }:\n"
    "    flake-parts.lib.mkFlake { inherit inputs; } {\n"
    "      imports = [ inputs.clan-core.flakeModules.default ./modules/parts.nix ];\n"
    '      flake.clan = { meta.name = "demo"; inventory.machines.web = { }; };\n'
    "    };\n}\n"
)


def test_clan_in_a_file_the_flake_imports(tmp_path: Path) -> None:
    make_clan(tmp_path)
    inv = discover(tmp_path)
    assert {n: h.source for n, h in inv.hosts.items()} == {
        "db": "clan",
        "laptop": "clan-darwin",
        "web": "clan",
    }
    assert inv.unresolved == []
    shared = {Path("modules/shared.nix"), Path("modules/users.nix")}
    assert shared <= inv.hosts["web"].modules and shared <= inv.hosts["db"].modules
    assert inv.hosts_of_file("modules/users.nix") == {"web", "db"}
    # self.nixosModules.base is the flake's own module: followed, not "unresolved"
    assert inv.hosts_of_file("modules/base.nix") == {"web"}
    # machines.db = { … } in the clan call is db's inline code
    clan_nix = (tmp_path / "clan.nix").read_bytes()
    assert inv.hosts_at("clan.nix", clan_nix.index(b"allowedTCPPorts")) == {"db"}
    assert inv.hosts["web"].entry_modules[0] == Path("machines/web/configuration.nix")
    # inventory roles' extraModules: by the nixos tag, by machine, by a literal tags list
    assert inv.hosts_of_file("modules/agent.nix") == {"web", "db"}  # not the darwin laptop
    assert inv.hosts_of_file("modules/server.nix") == {"db"}
    assert inv.hosts_of_file("modules/offsite.nix") == {"web"}


def test_build_clan_inline_with_a_machine_only_in_the_inventory(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "flake.nix": (
                "{\n  outputs = { self, clan-core, ... }:\n"
                "    let clan = clan-core.lib.buildClan {\n"
                "      directory = self;\n"
                '      inventory.machines.edge = { tags = [ "gw" ]; };\n'
                "      machines.nas = { imports = [ ./modules/zfs.nix ]; };\n"
                "    };\n"
                "    in { inherit (clan) nixosConfigurations clanInternals; };\n}\n"
            ),
            "machines/nas/configuration.nix": COMMON,
            "machines/box/configuration.nix": COMMON,
            "modules/common.nix": "{ ... }: { }\n",
            "modules/zfs.nix": "{ ... }: { }\n",
        },
    )
    inv = discover(tmp_path)
    assert sorted(inv.hosts) == ["box", "edge", "nas"]
    assert inv.hosts_of_file("modules/common.nix") == {"box", "nas"}
    assert inv.hosts_of_file("modules/zfs.nix") == {"nas"}
    # a machine declared only in the inventory: said plainly, not guessed
    assert [r for _, r in inv.unresolved] == [
        "machine edge (inventory) has no machines/edge/configuration.nix; "
        "its modules come from the clan inventory only"
    ]


def test_flake_parts_clan_module(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "flake.nix": (
                "{\n  outputs = inputs@{ flake-parts, ... }:\n"
                "    flake-parts.lib.mkFlake { inherit inputs; } {\n"
                '      systems = [ "x86_64-linux" ];\n'
                "      imports = [ inputs.clan-core.flakeModules.default ];\n"
                "      clan = {\n"
                '        meta.name = "home";\n'
                "        inventory = { machines = { router = { }; }; };\n"
                "      };\n"
                "    };\n}\n"
            ),
            "machines/router/configuration.nix": "{ ... }: { imports = [ ./hw.nix ]; }\n",
            "machines/router/hw.nix": "{ ... }: { }\n",
            "machines/pi/configuration.nix": "{ ... }: { }\n",
        },
    )
    inv = discover(tmp_path)
    assert sorted(inv.hosts) == ["pi", "router"]
    assert inv.hosts_of_file("machines/router/hw.nix") == {"router"}
    assert inv.unresolved == []


def test_flake_clan_set_in_an_imported_flake_parts_module(tmp_path: Path) -> None:
    """badele/nix-homelab: flake.nix imports clan's flakeModules and
    ./machines/flake-module.nix, which sets `flake.clan = { … }` (0 hosts were found)."""
    write(
        tmp_path,
        {
            "flake.nix": (
                "{\n  outputs = inputs@{ flake-parts, ... }:\n"
                "    flake-parts.lib.mkFlake { inherit inputs; } {\n"
                "      imports = [\n        inputs.clan-core.flakeModules.default\n"
                "        ./machines/flake-module.nix\n      ];\n    };\n}\n"
            ),
            "machines/flake-module.nix": (
                "{ self, inputs, ... }:\n{\n  imports = [ inputs.terranix.flakeModule ];\n"
                '  flake.clan = {\n    meta.name = "lab";\n'
                "    inventory.machines.router = { };\n  };\n}\n"
            ),
            "machines/router/configuration.nix": "{ ... }: { imports = [ ./hw.nix ]; }\n",
            "machines/router/hw.nix": "{ ... }: { }\n",
        },
    )
    inv = discover(tmp_path)
    assert sorted(inv.hosts) == ["router"]
    assert inv.hosts_of_file("machines/router/hw.nix") == {"router"}
    assert inv.unresolved == []


def test_configurations_taken_from_clan_config(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "flake.nix": (
                "{\n  outputs = { self, clan-core, ... }:\n"
                '    let clan = clan-core.lib.clan { inherit self; meta.name = "c"; };\n'
                "    in {\n      nixosConfigurations = clan.config.nixosConfigurations;\n"
                "      clanInternals = clan.config.clanInternals;\n    };\n}\n"
            ),
            "machines/a/configuration.nix": COMMON,
            "machines/b/configuration.nix": COMMON,
            "modules/common.nix": "{ ... }: { }\n",
        },
    )
    inv = discover(tmp_path)
    assert {n: h.source for n, h in inv.hosts.items()} == {"a": "clan", "b": "clan"}
    assert inv.unresolved == []
    assert inv.hosts_of_file("modules/common.nix") == {"a", "b"}


def test_home_manager_profiles_beside_the_clan_do_not_hide_its_machines(
    tmp_path: Path,
) -> None:
    """pinpox/nixos: `homeConfigurations` next to `nixosConfigurations =
    clan.config.nixosConfigurations`.  The profiles were taken for the flake's hosts, the
    13 machines were not read, and check said "no host reads a sops file: nothing to
    check" of a machine that did."""
    write(
        tmp_path,
        {
            "flake.nix": (
                "{\n  outputs = { self, clan-core, home-manager, nixpkgs, ... }:\n"
                '    let clan = clan-core.lib.clan { inherit self; meta.name = "c"; };\n'
                "    in {\n      nixosConfigurations = clan.config.nixosConfigurations;\n"
                "      homeConfigurations.desktop = home-manager.lib.homeManagerConfiguration"
                " { modules = [ ./home/desktop.nix ]; };\n    };\n}\n"
            ),
            "machines/a/configuration.nix": COMMON,
            "modules/common.nix": "{ ... }: { }\n",
            "home/desktop.nix": "{ ... }: { }\n",
        },
    )
    inv = discover(tmp_path)
    assert {n: h.source for n, h in inv.hosts.items()} == {"a": "clan", "desktop": "home-manager"}
    assert inv.hosts_of_file("modules/common.nix") == {"a"}


def test_a_role_for_a_computed_tag_is_said_not_guessed(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "flake.nix": (
                "{\n  outputs = { self, clan-core, ... }:\n"
                "    let clan = clan-core.lib.clan {\n"
                "      inherit self;\n"
                "      inventory.tags = { config, ... }: { backup = config.nixos; };\n"
                "      inventory.instances.borg.roles.client.tags.backup = { };\n"
                "      inventory.instances.borg.roles.client.extraModules = [ ./borg.nix ];\n"
                "    };\n    in { inherit (clan.config) nixosConfigurations; };\n}\n"
            ),
            "borg.nix": "{ ... }: { }\n",
            "machines/a/configuration.nix": "{ ... }: { }\n",
        },
    )
    inv = discover(tmp_path)
    assert inv.hosts_of_file("borg.nix") == set()
    assert [r for _, r in inv.unresolved] == [
        "line 7: extraModules of borg.client apply to tag backup, whose machines are computed "
        "in Nix"
    ]


def test_a_roles_tags_given_as_a_list_are_read(tmp_path: Path) -> None:
    """badele/nix-homelab: `roles.default.tags = [ "all" ];` (clan-core's own examples
    write it so) was passed over: base.nix was in no machine, and the hook's
    `clan secrets set --machine …` left out the machines that import it."""
    write(
        tmp_path,
        {
            "flake.nix": (
                "{\n  outputs = { self, clan-core, ... }:\n"
                "    let clan = clan-core.lib.clan {\n"
                "      inherit self;\n"
                '      inventory.machines.web = { tags = [ "desktop" ]; };\n'
                '      inventory.instances.base.roles.default.tags = [ "all" ];\n'
                "      inventory.instances.base.roles.default.extraModules = [ ./base.nix ];\n"
                '      inventory.instances.gui.roles.default.tags = [ "desktop" ];\n'
                "      inventory.instances.gui.roles.default.extraModules = [ ./gui.nix ];\n"
                "      inventory.instances.x.roles.default.tags = lib.attrNames tags;\n"
                "      inventory.instances.x.roles.default.extraModules = [ ./x.nix ];\n"
                "    };\n    in { inherit (clan.config) nixosConfigurations; };\n}\n"
            ),
            "base.nix": "{ ... }: { }\n",
            "gui.nix": "{ ... }: { }\n",
            "x.nix": "{ ... }: { }\n",
            "machines/web/configuration.nix": "{ ... }: { }\n",
            "machines/db/configuration.nix": "{ ... }: { }\n",
        },
    )
    inv = discover(tmp_path)
    assert inv.hosts_of_file("base.nix") == {"web", "db"}
    assert inv.hosts_of_file("gui.nix") == {"web"}
    assert inv.hosts_of_file("x.nix") == set()
    assert [r for _, r in inv.unresolved] == ["line 10: the tags of x.default are computed in Nix"]


def test_a_flake_module_defined_piecewise_in_an_attrset_is_followed(tmp_path: Path) -> None:
    """`flake.nixosModules = { server.imports = [ ./server.nix ]; … };` named as
    `self.nixosModules.server`: "module from the flake's own output" (cannot verify),
    though `flake.nixosModules.server.imports = …` was read."""
    write(
        tmp_path,
        {
            "flake.nix": PARTS_CLAN_FLAKE,
            "modules/parts.nix": (
                "{ ... }: {\n  flake.nixosModules = {\n"
                "    server.imports = [ ./server.nix ];\n"
                "    homelab = { ... }: { imports = [ ./homelab.nix ]; };\n  };\n}\n"
            ),
            "modules/server.nix": "{ ... }: { }\n",
            "modules/homelab.nix": "{ ... }: { }\n",
            "machines/web/configuration.nix": (
                "{ self, ... }: {\n"
                "  imports = [ self.nixosModules.server self.nixosModules.homelab ];\n}\n"
            ),
        },
    )
    inv = discover(tmp_path)
    assert inv.unresolved == []
    assert inv.hosts_of_file("modules/server.nix") == {"web"}
    assert inv.hosts_of_file("modules/homelab.nix") == {"web"}


def test_clan_machines_beside_the_flakes_own_configurations_are_both_hosts(
    tmp_path: Path,
) -> None:
    """badele/nix-homelab at 834c008a: `flake.clan` and `flake.nixosConfigurations.old`
    side by side (clan merges its machines into that output); the clan's machines were
    dropped, and migrate said no host imports their files."""
    write(
        tmp_path,
        {
            "flake.nix": (
                "{\n  outputs = inputs@{ flake-parts, ... }:\n"
                "    flake-parts.lib.mkFlake { inherit inputs; } {\n"
                "      imports = [ inputs.clan-core.flakeModules.default ];\n"
                '      flake.clan = { meta.name = "demo"; inventory.machines.web = { }; };\n'
                "      flake.nixosConfigurations.old = inputs.nixpkgs.lib.nixosSystem {\n"
                "        modules = [ ./hosts/old/configuration.nix ];\n      };\n    };\n}\n"
            ),
            "machines/web/configuration.nix": "{ ... }: { }\n",
            "hosts/old/configuration.nix": "{ ... }: { }\n",
        },
    )
    inv = discover(tmp_path)
    assert {n: h.source for n, h in inv.hosts.items()} == {"old": "flake", "web": "clan"}
    assert inv.hosts_of_file("machines/web/configuration.nix") == {"web"}


def test_own_modules_by_import_and_through_inputs_self_are_followed(tmp_path: Path) -> None:
    """helper-105: `homelab = import ./homelab.nix;` among flake.nixosModules, named as
    `self.nixosModules.homelab`, was read but counted in no host (no note either), and
    `inputs.self.nixosModules.server` was taken for another flake's module."""
    write(
        tmp_path,
        {
            "flake.nix": PARTS_CLAN_FLAKE,
            "modules/parts.nix": (
                "{ ... }: {\n  flake.nixosModules = {\n"
                "    homelab = import ./homelab.nix;\n"
                "    server = { imports = [ ./server.nix ]; };\n  };\n}\n"
            ),
            "modules/server.nix": "{ ... }: { }\n",
            "modules/homelab.nix": "{ ... }: { services.nginx.enable = true; }\n",
            "machines/web/configuration.nix": (
                "{ self, inputs, ... }: {\n"
                "  imports = [ inputs.self.nixosModules.server self.nixosModules.homelab ];\n}\n"
            ),
        },
    )
    inv = discover(tmp_path)
    assert inv.unresolved == [] and inv.external == []
    assert inv.hosts_of_file("modules/server.nix") == {"web"}
    assert inv.hosts_of_file("modules/homelab.nix") == {"web"}


def test_a_roles_extra_modules_given_as_strings_are_read_from_the_clan_directory(
    tmp_path: Path,
) -> None:
    """helper-105: clan's importer takes `extraModules = [ "modules/base.nix" ]` (strings,
    relative to the clan's directory); base.nix was in no machine, and check said "no
    clan machine imports modules/base.nix"."""
    write(
        tmp_path,
        {
            "flake.nix": (
                "{\n  outputs = { self, clan-core, ... }:\n"
                "    let clan = clan-core.lib.clan {\n      inherit self;\n"
                '      inventory.machines.web.tags = [ "servers" ];\n'
                '      inventory.instances.base.roles.default.tags = [ "servers" ];\n'
                "      inventory.instances.base.roles.default.extraModules =\n"
                '        [ "modules/base.nix" ];\n'
                "    };\n    in { inherit (clan.config) nixosConfigurations; };\n}\n"
            ),
            "modules/base.nix": "{ ... }: { }\n",
            "machines/web/configuration.nix": "{ ... }: { }\n",
            "machines/db/configuration.nix": "{ ... }: { }\n",
        },
    )
    assert discover(tmp_path).hosts_of_file("modules/base.nix") == {"web"}
