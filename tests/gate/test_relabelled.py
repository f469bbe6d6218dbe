"""A host's recipient replaced by hand (sed over .sops.yaml and its sops file) keeps the
key block made for the old key: the labels agree, the new key cannot open it
(helper-128 repro-4).  check tells it from the file's history, and its fix works."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, commit_all, git
from tests.support.smalllab import SmallLab, make_small_lab


@pytest.fixture
def lab(tmp_git_repo: Path, tmp_path: Path) -> SmallLab:
    return make_small_lab(tmp_git_repo, tmp_path / "keys")


def _age_of(private_ssh: Path) -> tuple[str, str]:
    from secretkit.keys.ssh_to_age import ssh_private_key_to_age, ssh_pubkey_to_age

    public = subprocess.run(
        ["ssh-keygen", "-y", "-f", str(private_ssh)], capture_output=True, text=True, check=True
    ).stdout
    return ssh_pubkey_to_age(public), ssh_private_key_to_age(private_ssh.read_bytes()).reveal()


def test_a_recipient_relabelled_by_hand_fails_and_the_fix_works(
    lab: SmallLab, tmp_path: Path
) -> None:
    value = b"relabel-check-value-0001"
    proc = lab.run("set", "secrets/alpha.yaml", '["app"]["token"]', stdin=value)
    assert proc.returncode == 0, proc.stderr
    commit_all(lab.repo, "alpha's file")
    old, _ = _age_of(lab.host_keys["alpha"])
    new_key = tmp_path / "alpha-new"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(new_key)], check=True)
    new, new_private = _age_of(new_key)
    for rel in (".sops.yaml", "secrets/alpha.yaml"):  # the way a user "rotates" with sed
        path = lab.repo / rel
        path.write_text(path.read_text().replace(old, new))
    commit_all(lab.repo, "alpha reinstalled")
    check = lab.run("check", "--source-only")
    out = check.stdout.decode()
    assert check.returncode == 1, out
    assert "secrets/alpha.yaml: the key block labelled" in out and "changed by hand" in out
    fix = next(line for line in out.splitlines() if "fix: put back the file sops wrote" in line)
    command = fix.split("(", 1)[1].split(")", 1)[0]  # git show <commit>:<path> > <path>
    subprocess.run(command, shell=True, cwd=lab.repo, check=True)
    assert lab.run("updatekeys", "secrets/alpha.yaml").returncode == 0
    commit_all(lab.repo, "re-wrapped")
    assert "changed by hand" not in lab.run("check", "--source-only").stdout.decode()
    # the reinstalled host opens its file
    env = {"SOPS_AGE_KEY": new_private, "PYTHONPATH": str(ROOT)}
    opened = subprocess.run(
        [sys.executable, "-m", "secretkit", "-C", str(lab.repo), "decrypt", "secrets/alpha.yaml",
         "--extract", '["app"]["token"]'],
        env=env, capture_output=True, check=False,
    )  # fmt: skip
    assert opened.returncode == 0 and opened.stdout.strip() == value, opened.stderr
    assert git(lab.repo, "status", "--short").strip() == ""
