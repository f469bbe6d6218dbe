"""migrate and check on a module several hosts import that guards its config with its
own switch (``config = mkIf cfg.enable { … }``): only the hosts that turn it on store
the module's secrets, and check holds the same reading."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.keys.ssh_to_age import ssh_private_key_to_age
from secretkit.sops import operations
from secretkit.sops.identities import load_identities
from tests.commands.test_cmd_migrate import run
from tests.conftest import commit_all
from tests.support import fake

FLAKE = """{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";
  # (pinned for 25.05, as migrate writes it: master's newest cannot build there)
  inputs.sops-nix.url = "github:Mic92/sops-nix/17eea6f3816ba6568b8c81db8a4e6ca438b30b7c";
  outputs = { self, nixpkgs, sops-nix, ... }: {
    nixosConfigurations.alpha = nixpkgs.lib.nixosSystem {
      modules = [ ./hosts/alpha.nix ./modules/backup.nix ];
    };
    nixosConfigurations.beta = nixpkgs.lib.nixosSystem {
      modules = [ ./hosts/beta.nix ./modules/backup.nix ];
    };
  };
}
"""

MODULE = """{ config, lib, ... }:
let
  cfg = config.my.backup;
in
{
  options.my.backup.enable = lib.mkEnableOption "borg backups";
  config = lib.mkIf cfg.enable {
    services.borgbackup.jobs.home = {
      paths = [ "/home" ];
      repo = "ssh://u@backup/./repo";
      encryption.mode = "repokey";
      encryption.passphrase = "@PASSPHRASE@";
    };
  };
}
"""


@pytest.fixture
def repo(tmp_git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from secretkit.commands.demo import demo_admin_key, demo_host_key
    from secretkit.keys import sops_yaml_edits
    from secretkit.keys.ssh_to_age import ssh_pubkey_to_age

    root = tmp_git_repo
    (root / "hosts").mkdir()
    (root / "modules").mkdir()
    (root / "flake.nix").write_text(FLAKE)
    value = fake.passphrase("switched")
    (root / "modules" / "backup.nix").write_text(MODULE.replace("@PASSPHRASE@", value))
    (root / "hosts" / "alpha.nix").write_text(
        '{ networking.hostName = "alpha"; my.backup.enable = true; }\n'
    )
    (root / "hosts" / "beta.nix").write_text('{ networking.hostName = "beta"; }\n')
    admin, public = demo_admin_key(tmp_path / "keys")
    sops_yaml_edits.init(root, public, "tester")
    for host in ("alpha", "beta"):
        line, private = demo_host_key(tmp_path / "keys", host)
        assert private is not None
        sops_yaml_edits.add_host(root, host, ssh_pubkey_to_age(line))
    commit_all(root, "a module only alpha turns on")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(admin))
    monkeypatch.setenv("SECRETKIT_TEST_HOST_KEYS", str(tmp_path / "keys"))
    return root


def _names(path: Path, host_key: Path) -> set[str]:
    age_key = ssh_private_key_to_age(host_key.read_bytes())
    identities = load_identities({"SOPS_AGE_KEY": age_key.reveal()})
    plain = operations.decrypt_bytes(path.read_bytes(), "yaml", identities)
    return {"/".join(str(k) for k in keys) for keys, _ in plain.leaves()}


def test_only_the_host_that_turns_the_module_on_gets_its_secret(repo: Path, tmp_path: Path) -> None:
    from secretkit.commands.demo import demo_host_key

    dry = run(repo, "migrate", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "borg/home/passphrase  alpha  secrets/alpha.yaml" in dry.stdout
    proc = run(repo, "migrate", "--yes")
    assert proc.returncode == 0, proc.stderr
    _line, alpha_key = demo_host_key(tmp_path / "keys", "alpha")
    assert alpha_key is not None
    assert _names(repo / "secrets" / "alpha.yaml", alpha_key) == {"borg/home/passphrase"}
    assert not (repo / "secrets" / "beta.yaml").exists()
    # the declaration sits under the switch, with the shared module's per-host file
    module = (repo / "modules" / "backup.nix").read_text()
    assert module.index("lib.mkIf cfg.enable") < module.index('sops.secrets."borg/home/passphrase"')
    assert '"/${config.networking.hostName}.yaml"' in module
    commit_all(repo, "migrated")
    check = run(repo, "check", "--source-only")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "nix-secret-refs: 1 declared secret(s) (1 host/file pair(s))" in check.stdout


def test_check_fails_once_the_other_host_turns_it_on(repo: Path) -> None:
    proc = run(repo, "migrate", "--yes")
    assert proc.returncode == 0, proc.stderr
    beta = repo / "hosts" / "beta.nix"
    beta.write_text(beta.read_text().replace("; }", "; my.backup.enable = true; }"))
    commit_all(repo, "beta backs up too")
    check = run(repo, "check", "--source-only")
    assert check.returncode == 1, check.stdout + check.stderr
    failed = [line for line in check.stdout.splitlines() if line.startswith("FAIL")]
    assert any("secrets/beta.yaml" in line for line in failed), check.stdout
