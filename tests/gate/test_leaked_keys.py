"""A host key of ``.sops.yaml`` made from an ssh private key the repository holds
(nix-community/infra's FreeBSD builder, a stranger's re-run): check followed the hint to
`hosts add` that key's .pub, migrate encrypted root's password to it, and nothing said
that anyone reading the repository could decrypt it."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.commands.check import run_check
from secretkit.keys import sops_yaml_edits
from secretkit.keys.ssh_to_age import ssh_pubkey_to_age
from tests.commands.rotate_support import new_ssh_key
from tests.conftest import commit_all
from tests.sops.keys_support import age_key
from tests.support.cli import run_main


def test_a_host_key_whose_private_half_was_committed_fails(
    tmp_git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pem, public = new_ssh_key()
    other_pem, _other = new_ssh_key()
    sops_yaml_edits.init(tmp_git_repo, age_key().public, "alice")
    sops_yaml_edits.add_host(tmp_git_repo, "web", ssh_pubkey_to_age(public))
    (tmp_git_repo / "keys").mkdir()
    (tmp_git_repo / "keys" / "ssh_host_ed25519_key").write_bytes(pem)
    (tmp_git_repo / "keys" / "unrelated_key").write_bytes(other_pem)
    commit_all(tmp_git_repo, "host key committed")
    leaked = [
        r
        for r in run_check(tmp_git_repo).failed
        if r.id == "host-readable" and "made from an ssh private key" in r.message
    ]
    assert len(leaked) == 1  # (the unrelated key is no key of .sops.yaml)
    assert leaked[0].message.startswith("the key .sops.yaml names for host web (age1")
    assert "secretkit rotate host web --ssh-pubkey-file" in leaked[0].fix
    # the fix, followed: a key made outside, then the host rotated to it
    assert "hosts add" not in leaked[0].fix  # (web has a key already: add refuses)
    outside = tmp_path / "outside"
    outside.mkdir()
    _new_pem, new_public = new_ssh_key()
    (outside / "ssh_host_ed25519_key.pub").write_text(new_public + "\n")
    code, _out, err = run_main(
        capsys,
        "-C",
        str(tmp_git_repo),
        "rotate",
        "host",
        "web",
        "--ssh-pubkey-file",
        str(outside / "ssh_host_ed25519_key.pub"),
    )
    assert code == 0, err
    assert not [
        r for r in run_check(tmp_git_repo).failed if "made from an ssh private key" in r.message
    ]
