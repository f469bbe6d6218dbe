"""Host discovery on realistic repository layouts built in tmp dirs."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secretkit.nix.hosts import Note, discover
from tests.keys.layouts import SEED_HOSTS, seed_colmena_flake, write


def test_seed_colmena_flake(tmp_path: Path) -> None:
    inv = discover(seed_colmena_flake(tmp_path))
    assert sorted(inv.hosts) == sorted(SEED_HOSTS)
    assert inv.unresolved == []
    common = {Path("modules/common/default.nix"), Path("modules/common/node-exporter.nix")}
    for name, host in inv.hosts.items():
        assert host.source == "colmena"
        assert Path(f"hosts/{name}/default.nix") in host.entry_modules
        assert Path("modules/common/default.nix") in host.entry_modules  # from defaults
        assert common <= host.modules
        assert Path(f"hosts/{name}/hardware-configuration.nix") in host.modules
    assert inv.hosts_of_file("hosts/observer/monitoring.nix") == {"observer"}
    assert inv.hosts_of_file(tmp_path / "hosts/immich/default.nix") == {"immich"}
    assert inv.hosts_of_file("modules/common/node-exporter.nix") == set(SEED_HOSTS)
    assert len(inv.hosts["observer"].modules) == 6  # flake.nix, 2 common, 3 own
    # sops-nix from the flake inputs is external: recorded, not a host file
    assert [reason.split(": ", 1)[1] for _, reason in inv.external] == [
        "inputs.sops-nix.nixosModules.sops"
    ]
    # the inline node module of observer is located precisely in flake.nix
    flake = (tmp_path / "flake.nix").read_bytes()
    offset = flake.index(b'deployment.targetHost = "observer"')
    assert inv.hosts_at("flake.nix", offset) == {"observer"}
    offset = flake.index(b"./modules/common")
    assert inv.hosts_at("flake.nix", offset) == set(SEED_HOSTS)
    # flake code outside every host module (inputs, other outputs) is used by no host
    assert inv.hosts_at("flake.nix", flake.index(b"github:Mic92/sops-nix")) == set()
    assert inv.hosts_at("hosts/immich/default.nix", 3) == {"immich"}


def test_nixos_configurations_with_shared_modules(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "flake.nix": (
                "{\n  outputs = { self, nixpkgs, home-manager, ... }@inputs:\n"
                "  let\n"
                "    shared = [ ./modules/base.nix home-manager.nixosModules.home-manager ];\n"
                "    mkHost = name: inputs.nixpkgs.lib.nixosSystem {\n"
                '      system = "x86_64-linux";\n'
                "      modules = shared ++ [ ./machines/${name}.nix ];\n"
                "    };\n"
                "  in {\n"
                "    nixosConfigurations.web = nixpkgs.lib.nixosSystem {\n"
                '      modules = shared ++ [ ./machines/web.nix { networking.hostName = "web"; } ];\n'  # noqa: E501
                "    };\n"
                "    nixosConfigurations = {\n"
                '      nas = mkHost "nas";\n'
                "    };\n"
                "  };\n}\n"
            ),
            "modules/base.nix": "{ ... }: { imports = [ ../lib/users.nix ]; }\n",
            "lib/users.nix": "{ ... }: { }\n",
            "machines/web.nix": (
                "{ ... }:\nlet secrets = import ../private/creds.nix; in\n"
                "{ home-manager.users.alice = import ../home/alice.nix; }\n"
            ),
            "private/creds.nix": '{ password = "not-a-secret"; }\n',
            "home/alice.nix": "{ ... }: { imports = [ ./shell.nix ]; }\n",
            "home/shell.nix": "{ ... }: { }\n",
            "machines/nas.nix": "{ ... }: { }\n",
        },
    )
    inv = discover(tmp_path)
    assert sorted(inv.hosts) == ["nas", "web"]
    assert inv.unresolved == []
    web, nas = inv.hosts["web"], inv.hosts["nas"]
    assert web.source == nas.source == "flake"
    assert web.entry_modules == [Path("modules/base.nix"), Path("machines/web.nix")]
    assert nas.entry_modules == [Path("modules/base.nix"), Path("machines/nas.nix")]
    assert {
        Path("private/creds.nix"),
        Path("home/alice.nix"),
        Path("home/shell.nix"),
        Path("lib/users.nix"),
    } <= web.modules
    assert inv.hosts_of_file("lib/users.nix") == {"web", "nas"}  # imported by two hosts
    assert inv.hosts_of_file("private/creds.nix") == {"web"}
    assert inv.hosts_of_file("machines/nas.nix") == {"nas"}


def test_hosts_dir_convention_and_directory_import(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "hosts/alpha/configuration.nix": "{ ... }: { imports = [ ../../roles/server ]; }\n",
            "hosts/beta/default.nix": "{ ... }: { imports = [ ../../roles/server ../common ]; }\n",
            "hosts/common/default.nix": "{ ... }: { }\n",
            "roles/server/default.nix": "{ ... }: { imports = [ ./ssh.nix ]; }\n",
            "roles/server/ssh.nix": "{ ... }: { }\n",
        },
    )
    inv = discover(tmp_path)
    # hosts/common is imported by beta, so it is not a host
    assert sorted(inv.hosts) == ["alpha", "beta"]
    assert inv.hosts["alpha"].source == "hosts-dir"
    assert inv.hosts["alpha"].entry_modules == [Path("hosts/alpha/configuration.nix")]
    assert inv.hosts_of_file("roles/server/default.nix") == {"alpha", "beta"}
    assert inv.hosts_of_file("roles/server/ssh.nix") == {"alpha", "beta"}
    assert inv.hosts_of_file("hosts/common/default.nix") == {"beta"}


def test_unresolvable_imports_are_reported(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "flake.nix": (
                "{\n  outputs = { nixpkgs, ... }: {\n"
                "    nixosConfigurations.box = nixpkgs.lib.nixosSystem {\n"
                "      modules = [ ./box.nix ./missing.nix ];\n"
                "    };\n"
                "    nixosConfigurations.gen = mkSomething { };\n"
                "  };\n}\n"
            ),
            "box.nix": (
                "{ lib, ... }:\n{\n"
                '  imports = map (f: ./modules + "/${f}") (builtins.attrNames (builtins.readDir ./modules));\n'  # noqa: E501
                "}\n"
            ),
            "other.nix": "{ ... }: { imports = [ modulesFromSomewhere ]; }\n",
        },
    )
    inv = discover(tmp_path)
    assert sorted(inv.hosts) == ["box", "gen"]
    assert inv.hosts["box"].modules == {Path("box.nix")}
    assert inv.hosts["gen"].modules == frozenset()
    assert inv.unresolved == [
        (Path("box.nix"), "line 3: imports built from a call of map"),
        (Path("flake.nix"), "line 4: imported file missing.nix does not exist"),
        (Path("flake.nix"), "line 6: host gen is defined by a call of mkSomething"),
    ]


def test_hive_nix_with_defaults_and_node_forms(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "hive.nix": (
                "let common = ./common.nix; in\n{\n"
                "  meta = { nixpkgs = <nixpkgs>; };\n"
                "  defaults = { imports = [ common ]; };\n"
                "  one = ./one.nix;\n"
                "  two = import ./two.nix;\n"
                '  "three" = { name, nodes, ... }: { imports = [ ./three ]; };\n'
                '  four.deployment.targetHost = "four";\n'
                "}\n"
            ),
            "common.nix": "{ ... }: { }\n",
            "one.nix": "{ ... }: { }\n",
            "two.nix": "{ ... }: { }\n",
            "three/default.nix": "{ ... }: { }\n",
        },
    )
    inv = discover(tmp_path)
    assert sorted(inv.hosts) == ["four", "one", "three", "two"]
    assert inv.unresolved == []
    assert inv.hosts_of_file("common.nix") == {"one", "two", "three", "four"}
    assert inv.hosts["three"].entry_modules == [
        Path("three/default.nix"),
        Path("common.nix"),
    ]
    assert inv.hosts["one"].modules == {Path("one.nix"), Path("common.nix"), Path("hive.nix")}


def test_flake_hosts_with_unresolved_set_fall_back_to_hosts_dir(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "flake.nix": (
                "{ outputs = { nixpkgs, ... }: {\n"
                "  nixosConfigurations = builtins.mapAttrs (n: _: mk n) (builtins.readDir ./hosts);\n"  # noqa: E501
                "}; }\n"
            ),
            "hosts/a/default.nix": "{ ... }: { }\n",
            "hosts/b/configuration.nix": "{ ... }: { }\n",
        },
    )
    inv = discover(tmp_path)
    assert sorted(inv.hosts) == ["a", "b"]
    # the host names come from readDir; what each is (a call of the unknown mk) is not
    assert inv.unresolved == [
        (Path("flake.nix"), "line 2: host a is defined by a call of mk"),
        (Path("flake.nix"), "line 2: host b is defined by a call of mk"),
    ]


def test_paths_outside_the_repository_are_not_followed(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(tmp_path, {"outside.nix": "{ }\n"})
    write(
        repo,
        {"hosts/x/default.nix": "{ imports = [\n ../../../outside.nix\n /etc/hw.nix\n ]; }\n"},
    )
    inv = discover(repo)
    assert inv.hosts["x"].modules == {Path("hosts/x/default.nix")}
    assert [r for _, r in inv.unresolved] == [
        "line 2: path outside the repository",
        "line 3: path outside the repository",
    ]


def test_import_cycles_terminate(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "hosts/x/default.nix": "{ imports = [ ../../a.nix ]; }\n",
            "a.nix": "{ imports = [ ./b.nix ]; }\n",
            "b.nix": "{ imports = [ ./a.nix ]; }\n",
        },
    )
    inv = discover(tmp_path)
    assert inv.hosts["x"].modules == {Path("hosts/x/default.nix"), Path("a.nix"), Path("b.nix")}


def test_long_import_chain(tmp_path: Path) -> None:
    files = {"hosts/x/default.nix": "{ imports = [ ../../m0.nix ]; }\n"}
    for i in range(600):
        files[f"m{i}.nix"] = f"{{ imports = [ ./m{i + 1}.nix ]; }}\n"
    files["m600.nix"] = "{ }\n"
    inv = discover(write(tmp_path, files))
    assert len(inv.hosts["x"].modules) == 602
    assert inv.unresolved == []


def test_deep_nesting_and_self_reference_do_not_crash(tmp_path: Path) -> None:
    deep = "{ imports = [ " * 3000 + "./a.nix" + " ]; }" * 3000
    loop = 'let a = import "${a}"; in { imports = [ a (let b = b; in b) ]; }\n'
    inv = discover(
        write(
            tmp_path,
            {
                "hosts/deep/default.nix": deep,
                "hosts/loop/default.nix": loop,
                "hosts/deep/a.nix": "{ }",
            },
        )
    )
    assert sorted(inv.hosts) == ["deep", "loop"]
    reasons = {r.split(": ", 1)[1] for _, r in inv.unresolved}
    assert "expression nested too deeply to follow" in reasons


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.sampled_from(
            [
                "{",
                "}",
                "[",
                "]",
                "(",
                ")",
                ";",
                "=",
                ":",
                "...",
                ",",
                "@",
                "let",
                "in",
                "imports",
                "modules",
                "nixosConfigurations",
                "colmena",
                "defaults",
                "meta",
                "import",
                "./a.nix",
                "../b",
                "./hosts/${n}",
                '"${./a.nix}"',
                "x",
                "n",
                "nixpkgs.lib.nixosSystem",
                "mk",
                '"s"',
                "++",
                "//",
                "rec",
                "inherit",
                "outputs",
                "{ ... }:",
                "a.b.c",
            ]
        ),
        max_size=60,
    )
)
def test_discovery_never_crashes_on_arbitrary_nix(tmp_path: Path, tokens: list[str]) -> None:
    text = " ".join(tokens)
    root = tmp_path / "fuzz"
    write(
        root,
        {"flake.nix": text, "hive.nix": text, "hosts/h/default.nix": text, "a.nix": text},
    )
    inv = discover(root)
    for host in inv.hosts.values():
        assert all(not p.is_absolute() for p in host.modules)


def test_flake_parts_helpers_from_files_and_inherit(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "flake.nix": (
                "{\n  outputs = inputs@{ flake-parts, nixpkgs, ... }:\n"
                "    flake-parts.lib.mkFlake { inherit inputs; } {\n"
                '      systems = [ "x86_64-linux" ];\n'
                "      flake = let\n"
                "        mkHost = import ./lib/mk-host.nix { inherit nixpkgs; };\n"
                '        web = mkHost { hostname = "web"; };\n'
                "      in {\n"
                "        nixosConfigurations = { inherit web; } // {\n"
                '          db = mkHost { hostname = "db"; extra = [ ./roles/db.nix ]; };\n'
                '          ${builtins.readFile ./name.txt} = mkHost { hostname = "x"; };\n'
                "        };\n"
                "      };\n"
                "    };\n}\n"
            ),
            "lib/mk-host.nix": (
                "{ nixpkgs }:\n{ hostname, extra ? [ ] }:\n"
                "nixpkgs.lib.nixosSystem {\n"
                "  modules = [ ../hosts/${hostname} <nixpkgs/nixos/modules/profiles/minimal.nix> ]"
                " ++ extra;\n"
                "}\n"
            ),
            "hosts/web/default.nix": '{ imports = [ (./. + "/hw.nix") (./. + extra) ]; }\n',
            "hosts/web/hw.nix": "{ }\n",
            "hosts/db/default.nix": "{ }\n",
            "roles/db.nix": "{ }\n",
        },
    )
    inv = discover(tmp_path)
    assert sorted(inv.hosts) == ["db", "web"]
    assert inv.hosts["web"].entry_modules == [Path("hosts/web/default.nix")]
    assert inv.hosts["db"].entry_modules == [Path("hosts/db/default.nix"), Path("roles/db.nix")]
    assert [r for _, r in inv.external] == ["line 4: <nixpkgs/nixos/modules/profiles/minimal.nix>"]
    assert inv.unresolved == [
        (Path("flake.nix"), "line 11: host with a computed name"),
        (Path("hosts/web/default.nix"), "line 1: module path built from a binary expression"),
    ]
    assert inv.hosts_of_file("hosts/web/hw.nix") == {"web"}  # ./. + "/hw.nix" is joined


def test_colmena_dotted_defaults_and_node_parts(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "hive.nix": (
                "{ inputs ? { } }:\n{\n"
                "  defaults.imports = [ ./common.nix ];\n"
                '  defaults.networking.domain = "lan";\n'
                "  web = { imports = [ ./web.nix ]; };\n"
                '  web.deployment.tags = [ "www" ];\n'
                "}\n"
            ),
            "common.nix": "{ }\n",
            "web.nix": "{ }\n",
        },
    )
    inv = discover(tmp_path)
    assert sorted(inv.hosts) == ["web"]
    assert inv.hosts["web"].entry_modules == [Path("web.nix"), Path("common.nix")]
    hive = (tmp_path / "hive.nix").read_bytes()
    assert inv.hosts_at("hive.nix", hive.index(b"domain")) == {"web"}
    assert inv.hosts_at("hive.nix", hive.index(b"tags")) == {"web"}


def test_syntax_errors_are_reported(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "hosts/x/default.nix": "{ imports = [ ./a.nix ];\n  foo = ;\n}\n",
            "hosts/x/a.nix": "{ }\n",
        },
    )
    inv = discover(tmp_path)
    assert Path("hosts/x/a.nix") in inv.hosts["x"].modules
    assert inv.unresolved == [
        (Path("hosts/x/default.nix"), "line 2: syntax error; what follows may be incomplete")
    ]


def test_colmena_hive_mapped_from_nixos_configurations(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "flake.nix": (
                "{ outputs = { self, nixpkgs, ... }: {\n"
                "  nixosConfigurations.a = nixpkgs.lib.nixosSystem { modules = [ ./a.nix ]; };\n"
                "  colmena = {\n"
                "    meta.nixpkgs = import nixpkgs { };\n"
                "  } // builtins.mapAttrs (name: value: {\n"
                "    imports = value._module.args.modules;\n"
                "  }) self.nixosConfigurations\n"
                "    // someOtherNodes;\n"
                "}; }\n"
            ),
            "a.nix": "{ }\n",
        },
    )
    inv = discover(tmp_path)
    assert inv.hosts["a"].source == "flake+colmena"
    assert inv.unresolved == [
        (Path("flake.nix"), "line 8: colmena hive is built from the variable someOtherNodes")
    ]


def test_partly_static_import_lists_and_nixpkgs_modules(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "hosts/x/default.nix": (
                "{ modulesPath, outputs, config, ... }: {\n"
                '  imports = [ ./a.nix (modulesPath + "/profiles/qemu-guest.nix") ]\n'
                "    ++ (builtins.attrValues outputs.nixosModules);\n"
                "  home-manager.users.me = import ../../home/${config.networking.hostName}.nix;\n"
                "}\n"
            ),
            "hosts/x/a.nix": '{ modulesPath, ... }: { imports = [ "${modulesPath}/x.nix" ]; }\n',
        },
    )
    inv = discover(tmp_path)
    assert inv.hosts["x"].modules == {Path("hosts/x/default.nix"), Path("hosts/x/a.nix")}
    assert [r for _, r in inv.external] == [
        "line 1: a nixpkgs module under modulesPath",
        "line 2: a nixpkgs module under modulesPath",
    ]
    assert inv.unresolved == [
        (
            Path("hosts/x/default.nix"),
            "line 3: imports built from a call of builtins.attrValues",
        ),
        (
            Path("hosts/x/default.nix"),
            "line 4: import of a path built from config.networking.hostName",
        ),
    ]


def test_flake_without_recognisable_hosts_is_reported(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "flake.nix": (
                "{\n  outputs = inputs@{ flake-parts, ... }:\n"
                "    flake-parts.lib.mkFlake { inherit inputs; } { imports = [ ./parts ]; };\n}\n"
            ),
            "hosts/a/default.nix": "{ }\n",
        },
    )
    inv = discover(tmp_path)
    assert sorted(inv.hosts) == ["a"]
    assert inv.unresolved == [
        (Path("flake.nix"), "line 2: no nixosConfigurations or colmena hive found in outputs"),
        (Path("flake.nix"), "line 3: imported file parts does not exist"),  # (flake-parts)
    ]


def test_gen_attrs_over_literal_names(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "flake.nix": (
                "{ outputs = { nixpkgs, ... }: let\n"
                "    lib = nixpkgs.lib;\n"
                '    names = [ "alpha" "beta" ];\n'
                "  in {\n"
                "    nixosConfigurations = lib.genAttrs names (name: lib.nixosSystem {\n"
                "      modules = [ ./machines/${name}.nix ./shared.nix ];\n"
                "    });\n"
                "  }; }\n"
            ),
            "machines/alpha.nix": "{ }\n",
            "machines/beta.nix": "{ }\n",
            "shared.nix": "{ }\n",
        },
    )
    inv = discover(tmp_path)
    assert sorted(inv.hosts) == ["alpha", "beta"]
    assert inv.hosts["beta"].entry_modules == [Path("machines/beta.nix"), Path("shared.nix")]
    assert inv.unresolved == []


def test_gen_attrs_over_read_dir_is_followed(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "flake.nix": (
                "{ outputs = { nixpkgs, ... }: {\n"
                "    nixosConfigurations = nixpkgs.lib.genAttrs\n"
                "      (builtins.attrNames (builtins.readDir ./hosts))\n"
                "      (name: nixpkgs.lib.nixosSystem { modules = [ ./hosts/${name} ]; });\n"
                "  }; }\n"
            ),
            "hosts/a/default.nix": "{ }\n",
        },
    )
    inv = discover(tmp_path)
    assert sorted(inv.hosts) == ["a"] and inv.hosts["a"].source == "flake"
    assert inv.hosts["a"].entry_modules == [Path("hosts/a/default.nix")]
    assert inv.unresolved == []


def test_notes_are_values_sorted_by_file_and_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "hosts/b/default.nix": "{ ... }:\n{\n  imports = [ ./gone.nix ];\n}\n",
            "hosts/a/default.nix": "{ ... }: { imports = [ (import ./x) unknownThing ]; }\n",
        },
    )
    inv = discover(tmp_path)
    assert inv.notes == [
        Note(Path("hosts/a/default.nix"), 1, "imported file hosts/a/x does not exist"),
        Note(Path("hosts/a/default.nix"), 1, "module from the variable unknownThing"),
        Note(Path("hosts/b/default.nix"), 3, "imported file hosts/b/gone.nix does not exist"),
    ]
    assert inv.unresolved == [(n.file, f"line {n.line}: {n.reason}") for n in inv.notes]


def test_what_an_overlay_imports_is_no_gap_in_the_hosts_modules(tmp_path: Path) -> None:
    """BonusPlay/sysconf: `nixpkgs.overlays = import ../overlays inputs;` reaches an
    overlay's `import nixpkgs-unstable { … }`, which cannot be followed: that was a gap
    in every host's modules, so sops-nix's module "may come through" it and migrate
    wired nothing.  A file read only for its value hides no module; the same file
    imported as a module still counts, and the note is still shown."""
    overlay = "{ nixpkgs-unstable }: final: prev: { u = import nixpkgs-unstable { }; }\n"
    files = {
        "flake.nix": (
            "{ outputs = { nixpkgs, ... }@inputs: {\n"
            "  nixosConfigurations.a = nixpkgs.lib.nixosSystem { modules = [ ./a.nix ]; };\n"
            "}; }\n"
        ),
        "a.nix": "{ inputs, ... }: { nixpkgs.overlays = import ./overlays inputs; }\n",
        "overlays/default.nix": (
            "{ nixpkgs-unstable, ... }: [ (import ./unstable.nix { inherit nixpkgs-unstable; }) ]\n"
        ),
        "overlays/unstable.nix": overlay,
    }
    inv = discover(write(tmp_path, files))
    host = inv.hosts["a"]
    assert host.gaps == () and host.imports_sops_nix() is False
    assert [n.file.as_posix() for n in inv.notes] == ["overlays/unstable.nix"]
    # imported as a module too: what it cannot follow may hide a module
    files["a.nix"] = (
        "{ inputs, ... }: {\n  imports = [ ./overlays/unstable.nix ];\n"
        "  nixpkgs.overlays = import ./overlays inputs;\n}\n"
    )
    inv = discover(write(tmp_path, files))
    assert [n.file.as_posix() for n in inv.hosts["a"].gaps] == ["overlays/unstable.nix"]
    assert inv.hosts["a"].imports_sops_nix() is None


def test_a_hive_mapped_from_a_set_discovery_reads_is_the_configurations_own(
    tmp_path: Path,
) -> None:
    """`colmena = { … } // mapAttrs (_: v: { imports = v._module.args.modules; })
    self.nixosConfigurations` where the set is one discovery reads: each node was taken
    for a module of its own, `v._module.args.modules` a gap in every host, and migrate
    asked to wire the hive by hand.  The nodes are the configurations' own."""
    from secretkit.nix import cst
    from secretkit.nix.wiring import wire_modules

    files = {
        "flake.nix": (
            "{ outputs = { self, nixpkgs, ... }@inputs: {\n"
            "  nixosConfigurations = import ./machines inputs;\n"
            '  colmena = { meta.nixpkgs = import nixpkgs { }; a.deployment.targetHost = "a"; }\n'
            "    // builtins.mapAttrs (_: v: { imports = v._module.args.modules; })\n"
            "    self.nixosConfigurations;\n"
            "}; }\n"
        ),
        "machines/default.nix": (
            "{ nixpkgs, ... }@inputs: {\n"
            "  a = nixpkgs.lib.nixosSystem { modules = [ ./a.nix ]; };\n"
            "  b = nixpkgs.lib.nixosSystem { modules = [ ./b.nix ]; };\n}\n"
        ),
        "machines/a.nix": "{ config, ... }: { sops.secrets.x = { }; }\n",
        "machines/b.nix": "{ config, ... }: { sops.secrets.y = { }; }\n",
    }
    root = write(tmp_path, files)
    inv = discover(root)
    assert {n: h.source for n, h in inv.hosts.items()} == {
        "a": "flake+colmena",
        "b": "flake+colmena",
    }
    assert inv.unresolved == [] and all(h.gaps == () for h in inv.hosts.values())
    sources = {name: (root / name).read_bytes() for name in files}
    wiring = wire_modules(sources, inv.hosts, cst.parse)
    assert not any("by hand" in note for note in wiring.notes), wiring.notes
    assert "machines/default.nix" in wiring.edits and wiring.unwired == set()
