"""A user's password from a sops secret, host by host (gate/user_secrets.py;
helper-118's repro 5)."""

from __future__ import annotations

from pathlib import Path

from secretkit.gate.context import CheckContext
from secretkit.gate.sops_verify import SopsJudge
from secretkit.gate.user_secrets import password_files_too_late
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
    return _check_files(repo, HOST.replace("FIELDS", alpha), HOST.replace("FIELDS", beta))


def _check_files(repo: Path, alpha: str, beta: str) -> list[tuple[str, str]]:
    """password_files_too_late of the two hosts' modules."""
    files = {"flake.nix": FLAKE}
    files["hosts/alpha/default.nix"] = alpha
    files["hosts/beta/default.nix"] = beta
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text + "\n")
    git(repo, "add", "-A")
    ctx = CheckContext(root=repo, judge=SopsJudge())
    return [(r.message, r.fix) for r in password_files_too_late(ctx)]


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


def test_a_secret_bound_in_a_let_is_followed_to_the_password_option(tmp_git_repo: Path) -> None:
    """helper-120 (repro 6): let pw = config.sops.secrets.alice-pw; … hashedPasswordFile
    = pw.path passed on the host without neededForUsers."""
    shared = (
        "{ config, ... }: let pw = config.sops.secrets.alice-pw; in "
        "{ users.users.alice.hashedPasswordFile = pw.path; }"
    )
    (tmp_git_repo / "modules").mkdir(exist_ok=True)
    (tmp_git_repo / "modules" / "pw.nix").write_text(shared + "\n")
    alpha = (
        'sops.secrets."alice-pw" = { neededForUsers = true; }; imports = [ ../../modules/pw.nix ];'
    )
    beta = 'sops.secrets."alice-pw" = { }; imports = [ ../../modules/pw.nix ];'
    found = _check_hosts(tmp_git_repo, alpha, beta)
    ((message, _fix),) = found
    assert message.startswith("modules/pw.nix:1: users.users.alice.hashedPasswordFile reads")
    assert "on host(s) beta" in message
    fixed = (
        'sops.secrets."alice-pw" = { neededForUsers = true; }; imports = [ ../../modules/pw.nix ];'
    )
    assert _check_hosts(tmp_git_repo, alpha, fixed) == []


def _check_hosts(repo: Path, alpha: str, beta: str) -> list[tuple[str, str]]:
    return _check_files(
        repo, "{ config, ... }: { " + alpha + " }", "{ config, ... }: { " + beta + " }"
    )
