"""A user's password from a sops secret, host by host (gate/user_secrets.py;
helper-118's repro 5)."""

from __future__ import annotations

from pathlib import Path

from secretkit.gate.context import CheckContext
from secretkit.gate.sops_verify import SopsJudge
from secretkit.gate.user_secrets import owned_for_users, password_files_too_late
from tests.conftest import git

FLAKE = """{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";
  outputs = { nixpkgs, ... }: let
    mk = name: nixpkgs.lib.nixosSystem { modules = [ ./hosts/${name} ]; };
  in { nixosConfigurations = { alpha = mk "alpha"; beta = mk "beta"; }; };
}
"""
HOST = (
    "{ config, ... }: { users.users.alice.hashedPasswordFile = "
    'config.sops.secrets."alice-pw".path; sops.secrets."alice-pw" = { FIELDS }; }'
)


def _check(repo: Path, alpha: str, beta: str) -> list[tuple[str, str]]:
    files = {"flake.nix": FLAKE}
    files["hosts/alpha/default.nix"] = HOST.replace("FIELDS", alpha)
    files["hosts/beta/default.nix"] = HOST.replace("FIELDS", beta)
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text + "\n")
    git(repo, "add", "-A")
    ctx = CheckContext(root=repo, judge=SopsJudge())
    return [(r.message, r.fix) for r in password_files_too_late(ctx) + owned_for_users(ctx)]


def test_needed_for_users_on_one_host_does_not_pass_another(tmp_git_repo: Path) -> None:
    ((message, fix),) = _check(tmp_git_repo, "neededForUsers = true;", "")
    assert message.startswith(
        "hosts/beta/default.nix:1: users.users.alice.hashedPasswordFile reads "
        'config.sops.secrets."alice-pw".path, which sops-nix writes on host(s) beta only '
        "after users are made"
    )
    assert fix.startswith('add neededForUsers = true; to sops.secrets."alice-pw"')
    both = _check(tmp_git_repo, "neededForUsers = true;", "neededForUsers = true;")
    assert both == []  # (the fix)


def test_a_needed_for_users_secret_with_an_owner_fails_the_build(tmp_git_repo: Path) -> None:
    fields = 'neededForUsers = true; owner = "alice";'
    ((message, fix),) = _check(tmp_git_repo, fields, "neededForUsers = true;")
    assert message == (
        'hosts/alpha/default.nix:1: sops.secrets."alice-pw" sets neededForUsers = true and '
        'owner = "alice"; sops-nix asserts such secrets are root\'s ("neededForUsers cannot '
        'be used for secrets that are not root-owned"): the host does not build'
    )
    assert fix.startswith('take owner = "alice"; out of sops.secrets."alice-pw"')
    root = 'neededForUsers = true; owner = "root"; group = "root";'
    assert _check(tmp_git_repo, root, "neededForUsers = true;") == []  # (the fix)
