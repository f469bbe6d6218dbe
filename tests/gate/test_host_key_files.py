"""A host key the repository holds (hosts/<h>/ssh_host_ed25519_key.pub, a knownHosts
entry) that is not the key .sops.yaml names for the host: a host reinstalled, its .pub
updated, .sops.yaml not (helper-126 repro-6: check passed, the host could not open
its file)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from secretkit.gate.context import CheckContext
from secretkit.gate.host_key_files import stale_host_keys
from secretkit.gate.sops_verify import SopsJudge
from tests.conftest import commit_all
from tests.support.smalllab import SmallLab, make_small_lab


@pytest.fixture
def lab(tmp_git_repo: Path, tmp_path: Path) -> SmallLab:
    return make_small_lab(tmp_git_repo, tmp_path / "keys")


def _pub(private: Path) -> str:
    done = subprocess.run(["ssh-keygen", "-y", "-f", str(private)], capture_output=True, text=True)
    return done.stdout.strip()


def _new_key(tmp_path: Path) -> str:
    key = tmp_path / "new"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return _pub(key)


def _stale(lab: SmallLab, own: str | None = None) -> list[str]:
    ctx = CheckContext(root=lab.repo, judge=SopsJudge())
    return [r.message for r in stale_host_keys(ctx, lambda host: own)]


def test_a_pub_file_beside_the_hosts_module_is_held_to_sops_yaml(
    lab: SmallLab, tmp_path: Path
) -> None:
    pub = lab.repo / "hosts" / "alpha" / "ssh_host_ed25519_key.pub"
    pub.write_text(_pub(lab.host_keys["alpha"]) + " root@alpha\n")
    commit_all(lab.repo, "alpha's key")
    assert _stale(lab) == []
    pub.write_text(_new_key(tmp_path) + " root@alpha\n")  # reinstalled
    commit_all(lab.repo, "alpha reinstalled")
    (message,) = _stale(lab)
    assert message.startswith(
        "cannot verify: hosts/alpha/ssh_host_ed25519_key.pub holds host alpha's ssh key"
    )
    # sops-nix told to use a key of its own: the ssh host key is not what opens its files
    assert _stale(lab, own="sops.age.keyFile") == []


def test_a_known_hosts_entry_naming_the_host_is_held_to_sops_yaml(
    lab: SmallLab, tmp_path: Path
) -> None:
    module = lab.repo / "hosts" / "beta" / "default.nix"
    text = module.read_text().rstrip().removesuffix("}")
    module.write_text(
        text + f'  programs.ssh.knownHosts.alpha.publicKey = "{_new_key(tmp_path)}";\n}}\n'
    )
    commit_all(lab.repo, "known hosts")
    (message,) = _stale(lab)
    assert "hosts/beta/default.nix:" in message and "holds host alpha's ssh key" in message
