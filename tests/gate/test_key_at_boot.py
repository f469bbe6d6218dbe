"""host-readable: sops-nix's key is on a filesystem mounted before activation
(helper-124: an impermanence host's key under a /persist without neededForBoot passed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.gate.context import CheckContext
from secretkit.gate.key_at_boot import keys_at_boot
from secretkit.gate.sops_verify import SopsJudge
from tests.conftest import git

FLAKE = (
    "{ outputs = { nixpkgs, ... }: { nixosConfigurations.vps = nixpkgs.lib.nixosSystem "
    "{ modules = [ ./vps.nix ]; }; }; }\n"
)
HOST = """{ config, ... }:
{
  fileSystems."/" = { device = "none"; fsType = "tmpfs"; };
  fileSystems."/persist" = { device = "/dev/vda2"; fsType = "ext4";NEEDED };
  services.openssh = {
    enable = true;
    hostKeys = [ { path = "/persist/etc/ssh/ssh_host_ed25519_key"; type = "ed25519"; } ];
  };
  sops.secrets.x = { sopsFile = ./s.yaml; };
}
"""


@pytest.mark.parametrize(("needed", "fails"), [("", True), (" neededForBoot = true;", False)])
def test_a_key_on_a_filesystem_mounted_after_activation_fails(
    tmp_git_repo: Path, needed: str, fails: bool
) -> None:
    (tmp_git_repo / "flake.nix").write_text(FLAKE)
    (tmp_git_repo / "vps.nix").write_text(HOST.replace("NEEDED", needed))
    git(tmp_git_repo, "add", "-A")
    results = keys_at_boot(CheckContext(root=tmp_git_repo, judge=SopsJudge()))
    if not fails:
        assert results == []
        return
    (result,) = results
    assert result.message.startswith(
        "host vps: sops-nix reads its key /persist/etc/ssh/ssh_host_ed25519_key while NixOS "
        "activates, which at boot comes before systemd mounts /persist"
    )
    assert result.fix == (
        'set fileSystems."/persist".neededForBoot = true; in vps.nix (the initrd mounts it '
        "before activation)"
    )


def test_a_key_on_a_tmpfs_root_fails_and_the_persisted_one_passes(tmp_git_repo: Path) -> None:
    """helper-124 (impermanence B): sops.age.sshKeyPaths naming /etc/ssh/… on a tmpfs
    root, while sshd keeps its key under /persist, passed; the file is never there when
    sops-nix installs the secrets."""
    (tmp_git_repo / "flake.nix").write_text(FLAKE)
    needed = HOST.replace("NEEDED", " neededForBoot = true;")
    etc = needed.replace(
        "  sops.secrets.x",
        '  sops.age.sshKeyPaths = [ "/etc/ssh/ssh_host_ed25519_key" ];\n  sops.secrets.x',
    )
    (tmp_git_repo / "vps.nix").write_text(etc)
    git(tmp_git_repo, "add", "-A")
    (result,) = keys_at_boot(CheckContext(root=tmp_git_repo, judge=SopsJudge()))
    assert result.message.startswith(
        "host vps: sops-nix reads its key /etc/ssh/ssh_host_ed25519_key from the root "
        "filesystem, a tmpfs (vps.nix)"
    )
    assert result.fix.startswith("point sops.age.sshKeyPaths at the persisted key")
    # the fix, done: the persisted key
    (tmp_git_repo / "vps.nix").write_text(etc.replace('[ "/etc/ssh/', '[ "/persist/etc/ssh/'))
    git(tmp_git_repo, "add", "-A")
    assert keys_at_boot(CheckContext(root=tmp_git_repo, judge=SopsJudge())) == []
    # (a root that is no tmpfs keeps /etc/ssh)
    (tmp_git_repo / "vps.nix").write_text(etc.replace('fsType = "tmpfs"', 'fsType = "ext4"'))
    git(tmp_git_repo, "add", "-A")
    assert keys_at_boot(CheckContext(root=tmp_git_repo, judge=SopsJudge())) == []
