"""A value in an inline home-manager module (``home-manager.users.<u> = { … }``): its
``config`` is home-manager's.  migrate moves nothing there (a NixOS route would write
sops-nix options into home-manager's module) and says what check says: the
declaration in the NixOS module around it, owned by the user, and the reference
through ``osConfig`` (a stranger followed the old steps literally: the declaration
landed in the home-manager module, and evaluation failed)."""

from __future__ import annotations

from pathlib import Path

from tests.commands.test_cmd_migrate_inline import keyed_repo, write
from tests.commands.test_cmd_migrate_wiring import secretkit
from tests.conftest import commit_all
from tests.support import fake

FLAKE = """{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";
  outputs = { nixpkgs, home-manager, ... }: {
    nixosConfigurations.box = nixpkgs.lib.nixosSystem {
      modules = [ ./configuration.nix home-manager.nixosModules.home-manager ];
    };
  };
}
"""
CONFIGURATION = """{ config, pkgs, ... }:
{
  networking.hostName = "box";
  services.openssh.enable = true;
  home-manager.users.alice = { pkgs, ... }: {
    programs.git.extraConfig.github.token = "@TOKEN@";
    services.grafana.settings.security.admin_password = "@PASSWORD@";
  };
}
"""


def test_migrate_leaves_a_home_manager_module_alone_and_gives_check_s_route(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    root = tmp_git_repo
    key_file, _keys = keyed_repo(root, tmp_path, ("box",))
    token, password = fake.github_token("hm"), fake.password("hm")
    text = CONFIGURATION.replace("@TOKEN@", token).replace("@PASSWORD@", password)
    write(root, {"flake.nix": FLAKE, "configuration.nix": text})
    commit_all(root, "home-manager with secrets")
    proc = secretkit(root, key_file, "migrate", "--dry-run")
    out = proc.stdout + proc.stderr
    assert token not in out and password not in out
    # the grafana option is a NixOS route's, but not in home-manager's module
    assert out.count("it is set in home-manager.users.alice's module") == 2, out
    assert (
        "in configuration.nix, outside home-manager.users.alice (sops-nix's NixOS module "
        'decrypts it), add: sops.secrets."programs/git/extraconfig/github/token" = '
        '{ sopsFile = ./secrets/box.yaml; owner = "alice"; };'
    ) in out
    assert (
        "in the module on line 5 of configuration.nix (home-manager's), add osConfig to its "
        "arguments ({ osConfig, ... }:) and drop the literal on line 6: give the program the "
        'file osConfig.sops.secrets."programs/git/extraconfig/github/token".path'
    ) in out
    assert "sops.secrets" not in (root / "configuration.nix").read_text()
