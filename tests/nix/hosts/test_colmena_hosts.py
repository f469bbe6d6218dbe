"""colmena hives and the NixOps/morph networks of the same shape: which attributes
are nodes."""

from __future__ import annotations

from pathlib import Path

from secretkit.nix.hosts import discover
from tests.keys.layouts import write


def test_a_hives_network_attribute_is_its_settings_not_a_node(tmp_path: Path) -> None:
    """colmena reads ``network`` as its older name for ``meta``; a root network.nix that
    is a NixOS module (a function, no ``network`` attribute) is no network of hosts."""
    files = {
        "hive.nix": (
            '{\n  network.description = "lan";\n  alpha = { imports = [ ./alpha.nix ]; };\n}\n'
        ),
        "network.nix": "{ ... }: { networking.firewall.enable = true; }\n",
        "alpha.nix": "{ ... }: { imports = [ ./network.nix ]; }\n",
    }
    inv = discover(write(tmp_path, files))
    assert {n: h.source for n, h in inv.hosts.items()} == {"alpha": "colmena"}
    assert inv.hosts_of_file("network.nix") == {"alpha"}
    assert inv.unresolved == []


# (JulienMalka/snowfield's shape: no flake.nix; hive.nix takes the colmena output of the
# repository's default.nix, a rec set whose nixosConfigurations it maps)
OWN_FILE_HIVE = {
    "hive.nix": "let outputs = import ./.; in outputs.colmena\n",
    "default.nix": (
        "let\n  self = rec {\n"
        "    nixosConfigurations = {\n"
        "      web = import <nixpkgs/nixos/lib/eval-config.nix> { modules = [ ./web.nix ]; };\n"
        "    };\n"
        "    colmena = { meta.nixpkgs = import <nixpkgs> { }; }\n"
        "      // builtins.mapAttrs (_: v: { imports = v._module.args.modules; }) "
        "nixosConfigurations;\n"
        "  };\nin\nself\n"
    ),
    "web.nix": "{ ... }: { imports = [ ./svc.nix ]; }\n",
    "svc.nix": "{ ... }: { services.openssh.enable = true; }\n",
}


def test_a_hive_mapping_its_own_files_configurations_finds_their_hosts(tmp_path: Path) -> None:
    """The hive mapped nixosConfigurations of no flake: `hosts list` said "no host
    found" and named nothing it could not follow."""
    inv = discover(write(tmp_path, OWN_FILE_HIVE))
    assert {n: h.source for n, h in inv.hosts.items()} == {"web": "colmena"}
    assert inv.hosts_of_file("svc.nix") == {"web"}


def test_a_hive_mapping_a_set_built_by_a_function_says_where(tmp_path: Path) -> None:
    files = dict(OWN_FILE_HIVE)
    files["default.nix"] = files["default.nix"].replace(
        "nixosConfigurations = {\n"
        "      web = import <nixpkgs/nixos/lib/eval-config.nix> { modules = [ ./web.nix ]; };\n"
        "    };\n",
        "nixosConfigurations = builtins.mapAttrs (n: v: v) (lib.importConfig ./machines);\n",
    )
    inv = discover(write(tmp_path, files))
    assert inv.hosts == {}
    ((file, text),) = inv.unresolved
    assert file == Path("default.nix")
    assert "nixosConfigurations is built from a call of builtins.mapAttrs" in text
    from secretkit.nix.hosts.declare import declare_hint
    from secretkit.plan.advice import unowned_reason

    reason = unowned_reason(inv, "svc.nix")
    assert reason.startswith("no host secretkit could read imports this file")
    assert "default.nix: line " in reason and "secretkit hosts list" in reason
    hint = declare_hint(inv, "gus")
    assert hint.startswith("add `gus = { imports = [ ./hosts/gus/configuration.nix ]; };` to the")
    assert "flake.nix" not in hint
    # the tree's own layout, where it has one (snowfield's machines/<h>/default.nix)
    (tmp_path / "machines" / "web").mkdir(parents=True)
    (tmp_path / "machines" / "web" / "default.nix").write_text("{ ... }: { }\n")
    hint = declare_hint(discover(tmp_path), "gus")
    assert hint.startswith("add `gus = { imports = [ ./machines/gus/default.nix ]; };`")
