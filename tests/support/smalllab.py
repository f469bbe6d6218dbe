"""A two-host flake with four fake secrets: small enough to migrate many times in the
concurrency and signal tests (values are built at run time)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support import fake

FLAKE = """{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";
  outputs = { self, nixpkgs, ... }: {
    nixosConfigurations = {
      alpha = nixpkgs.lib.nixosSystem { modules = [ ./hosts/alpha ]; };
      beta = nixpkgs.lib.nixosSystem { modules = [ ./hosts/beta ]; };
    };
  };
}
"""

HOST = """{ ... }:
{
  networking.hostName = "@HOST@";
  services.openssh.enable = true;
  services.borgbackup.jobs.main = {
    repo = "ssh://backup@offsite/./@HOST@";
    encryption = {
      mode = "repokey";
      passphrase = "@PASSPHRASE@";
    };
  };
  services.grafana.settings.security.admin_password = "@PASSWORD@";
}
"""

HOSTS = ("alpha", "beta")


@dataclass
class SmallLab:
    repo: Path
    admin_key: Path
    host_keys: dict[str, Path]
    values: dict[str, str]  # "<host>/<what>" → fake secret

    def env(self, **extra: str) -> dict[str, str]:
        from tests.conftest import ROOT

        env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
        env.pop("SECRETKIT_TEST_KILL_AFTER_WRITES", None)
        env["SOPS_AGE_KEY_FILE"] = str(self.admin_key)
        env["PYTHONPATH"] = str(ROOT)
        env.update(extra)
        return env

    def popen(self, *args: str, **extra: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "secretkit", "-C", str(self.repo), *args],
            env=self.env(**extra),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def run(
        self, *args: str, stdin: bytes | None = None, **extra: str
    ) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "secretkit", "-C", str(self.repo), *args],
            env=self.env(**extra),
            input=stdin,
            capture_output=True,
            check=False,
            timeout=120,
        )


def make_small_lab(repo: Path, keys: Path) -> SmallLab:
    """``repo`` (an empty git repo) with the flake, the admin key and both hosts in
    ``.sops.yaml``, everything committed."""
    from secretkit.commands.demo import demo_admin_key, demo_host_key
    from secretkit.keys import sops_yaml_edits
    from secretkit.keys.ssh_to_age import ssh_pubkey_to_age
    from tests.conftest import commit_all

    (repo / "flake.nix").write_text(FLAKE)
    values: dict[str, str] = {}
    for host in HOSTS:
        passphrase = fake.passphrase(f"{host}-borg")
        password = fake.password(f"{host}-grafana")
        values[f"{host}/passphrase"] = passphrase
        values[f"{host}/password"] = password
        text = HOST.replace("@HOST@", host).replace("@PASSPHRASE@", passphrase)
        (repo / "hosts" / host).mkdir(parents=True)
        (repo / "hosts" / host / "default.nix").write_text(text.replace("@PASSWORD@", password))
    admin, public = demo_admin_key(keys)
    sops_yaml_edits.init(repo, public, "tester")
    host_keys = {}
    for host in HOSTS:
        line, private = demo_host_key(keys, host)
        assert private is not None
        host_keys[host] = private
        sops_yaml_edits.add_host(repo, host, ssh_pubkey_to_age(line))
    commit_all(repo, "two hosts")
    return SmallLab(repo, admin, host_keys, values)


def pristine_small_lab(base: Path) -> SmallLab:
    """A committed small lab under ``base`` (its own HOME and git config, so module-scoped
    fixtures do not depend on the test that first asks for them)."""
    import pytest

    from tests.conftest import GIT_ENV, git

    with pytest.MonkeyPatch.context() as env:
        env.setenv("HOME", str(base / "home"))
        env.setenv("GIT_CONFIG_GLOBAL", str(base / "home" / ".gitconfig"))
        for key, value in GIT_ENV.items():
            env.setenv(key, value)
        repo = base / "repo"
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        git(repo, "config", "user.name", "Test Author")
        git(repo, "config", "user.email", "author@example.invalid")
        return make_small_lab(repo, base / "keys")


def copy_lab(lab: SmallLab, dest: Path) -> SmallLab:
    """A copy of ``lab``'s repository at ``dest`` with the same keys and values."""
    import shutil

    shutil.copytree(lab.repo, dest, symlinks=True)
    return SmallLab(dest, lab.admin_key, lab.host_keys, lab.values)
