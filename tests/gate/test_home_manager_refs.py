"""service-readable: a home-manager module reading a NixOS sops file through osConfig
(helper-122: `passwordCommand = "cat ${osConfig.sops.secrets."email/work".path}"`
with a root-owned secret passed check; msmtp runs it as the user)."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.gate.context import CheckContext
from secretkit.gate.home_manager_refs import home_manager_reads
from secretkit.gate.sops_verify import SopsJudge
from tests.conftest import git

FLAKE = """{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";
  inputs.home-manager.url = "github:nix-community/home-manager/release-25.05";
  outputs = { nixpkgs, home-manager, ... }: {
    nixosConfigurations.thinkpad = nixpkgs.lib.nixosSystem {
      modules = [ ./thinkpad.nix home-manager.nixosModules.home-manager
        { home-manager.users.alice = import ./home/alice.nix; } ];
    };
  };
}
"""
HOME = """{ config, osConfig, ... }:
{
  accounts.email.accounts.work.passwordCommand =
    "cat ${osConfig.sops.secrets."email/work".path}";
}
"""


def _check(repo: Path, fields: str) -> list[tuple[bool, str, str]]:
    (repo / "flake.nix").write_text(FLAKE)
    (repo / "thinkpad.nix").write_text(
        '{ ... }: { users.users.alice.isNormalUser = true; sops.secrets."email/work" = '
        f"{{ sopsFile = ./s.yaml; {fields} }}; }}\n"
    )
    (repo / "home").mkdir(exist_ok=True)
    (repo / "home" / "alice.nix").write_text(HOME)
    git(repo, "add", "-A")
    results = home_manager_reads(CheckContext(root=repo, judge=SopsJudge()))
    return [(r.ok, r.message, r.fix) for r in results]


@pytest.mark.parametrize(
    ("fields", "fails"),
    [
        ("", "the file is root's, mode 0400"),
        ('owner = "bob";', "the file is owned by bob, mode 0400"),
        ('owner = "alice";', None),
        ('mode = "0444";', None),  # (anyone may read it)
        ('group = "users"; mode = "0440";', None),  # (a group that may hold alice)
    ],
)
def test_a_home_manager_module_reading_a_nixos_secret_needs_its_users_file(
    tmp_git_repo: Path, fields: str, fails: str | None
) -> None:
    results = _check(tmp_git_repo, fields)
    if fails is None:
        assert results == []
        return
    ((ok, message, fix),) = results
    assert not ok
    assert message.startswith(
        'home/alice.nix:4: a home-manager module reads sops.secrets."email/work"\'s file '
        "through osConfig, and what it configures runs as the home-manager user alice"
    )
    assert fails in message
    assert fix.endswith('owner = "alice"; to sops.secrets."email/work" (thinkpad.nix:1)') or (
        fix.startswith('set owner = "alice"; in')
    )
    # the fix, done as it says
    assert _check(tmp_git_repo, 'owner = "alice";') == []


def test_an_os_config_name_no_nixos_module_declares_fails(tmp_git_repo: Path) -> None:
    """nix-secret-refs reads config.sops.… references: one through osConfig to a name no
    NixOS module declares passed ("0 reference(s)"); the host does not evaluate."""
    from secretkit.gate.home_manager_refs import undeclared_os_refs

    _check(tmp_git_repo, 'owner = "alice";')
    ctx = CheckContext(root=tmp_git_repo, judge=SopsJudge())
    assert undeclared_os_refs(ctx) == []
    (tmp_git_repo / "home" / "alice.nix").write_text(HOME.replace("email/work", "email/home"))
    git(tmp_git_repo, "add", "-A")
    (result,) = undeclared_os_refs(CheckContext(root=tmp_git_repo, judge=SopsJudge()))
    assert not result.ok and result.id == "nix-secret-refs"
    assert result.message.startswith(
        'home/alice.nix:4: a home-manager module reads osConfig.sops.secrets."email/home", '
        "which no NixOS module declares"
    )
