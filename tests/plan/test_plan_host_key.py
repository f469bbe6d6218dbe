"""An ssh host's own private key committed as ``environment.etc."ssh/ssh_host_ed25519_key"``
(nix-community/infra's FreeBSD builder, a stranger's run): migrate moved it into the
host's sops file, encrypted to the age key made from that very key, so the host could
never decrypt it, and said nothing.  Now it is refused with the steps that work, and
check and the hook give those steps, not "store it with secretkit set"."""

from __future__ import annotations

from pathlib import Path

from secretkit.commands.check import run_check
from tests.commands.test_cmd_migrate_wiring import secretkit
from tests.conftest import commit_all
from tests.support import fake

FLAKE = """{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";
  outputs = { nixpkgs, ... }: {
    nixosConfigurations.web = nixpkgs.lib.nixosSystem { modules = [ ./hosts/web ]; };
  };
}
"""
HOST = """{ ... }:
{
  imports = [ ./ssh.nix ];
  networking.hostName = "web";
  services.openssh.enable = true;
}
"""


def _repo(root: Path) -> None:
    key = "\n".join("      " + line for line in fake.pem_private_key(seed="host").splitlines())
    (root / "hosts" / "web").mkdir(parents=True)
    (root / "flake.nix").write_text(FLAKE)
    (root / "hosts" / "web" / "default.nix").write_text(HOST)
    (root / "hosts" / "web" / "ssh.nix").write_text(
        '{\n  environment.etc."ssh/ssh_host_ed25519_key" = {\n    mode = "0600";\n'
        f"    text = ''\n{key}\n    '';\n  }};\n}}\n"
    )
    commit_all(root)


def test_migrate_refuses_the_hosts_own_key_with_steps_that_work(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    _repo(tmp_git_repo)
    (tmp_path / "none.txt").write_text("")
    done = secretkit(tmp_git_repo, tmp_path / "none.txt", "migrate", "--dry-run")
    out = done.stdout + done.stderr
    assert "is the host's own ssh host key" in out
    assert "secretkit hosts add web --generate-host-key --extra-files DIR" in out
    assert "secretkit set" not in out and "sops.secrets" not in out
    assert "nothing to migrate" in out


def test_check_gives_the_same_steps(tmp_git_repo: Path) -> None:
    _repo(tmp_git_repo)
    failed = [r for r in run_check(tmp_git_repo).failed if r.id == "plaintext-tree"]
    assert len(failed) == 1
    assert "secretkit hosts add web --generate-host-key" in failed[0].fix
    assert "secretkit set" not in failed[0].fix
