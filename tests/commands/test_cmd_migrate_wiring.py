"""``secretkit migrate`` wires sops-nix where the hosts are built, and ``check`` verifies it.

The repository builds its hosts in ``nixos/default.nix`` (``lib.genAttrs`` over
``builtins.readDir ../machines``, ``nixosSystem`` called there), as flake.nix imports
it: migrate must add sops-nix's module to that modules list (reached through the
``inputs`` the file receives), and ``check`` must fail the ``sops-nix-module`` point
once the import is gone again, naming that list.  Real git, real age keys, the CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, commit_all
from tests.sops.keys_support import age_key
from tests.support import fake

FLAKE = """{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";
  outputs = { self, nixpkgs, ... }@inputs: {
    nixosConfigurations = import ./nixos { inherit inputs; inherit (nixpkgs) lib; };
  };
}
"""
BUILDER = """{ inputs, lib }:
let
  machines = lib.attrNames
    (lib.filterAttrs (_: t: t == "directory") (builtins.readDir ../machines));
in
lib.genAttrs machines (name:
  lib.nixosSystem {
    system = "x86_64-linux";
    modules = [
      ../machines/${name}
      ../modules/common.nix
    ];
  })
"""
COMMON = "{ ... }:\n{\n  services.openssh.enable = true;\n}\n"
MODULE_LINE = "      inputs.sops-nix.nixosModules.sops\n"


def secretkit(
    root: Path, key_file: Path, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), SOPS_AGE_KEY_FILE=str(key_file))
    return subprocess.run(
        [sys.executable, "-m", "secretkit", "-C", str(root), *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=env,
        timeout=300,
    )


def test_migrate_wires_the_builder_file_and_check_follows_it(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    from secretkit.keys import sops_yaml_edits

    root = tmp_git_repo
    admin = age_key()
    key_file = admin.write(tmp_path / "admin.txt")
    sops_yaml_edits.init(root, admin.public, "alice")
    for host in ("alpha", "beta"):
        sops_yaml_edits.add_host(root, host, age_key().public)
    alpha = (
        "{ config, ... }:\n{\n  services.grafana.enable = true;\n"
        f'  services.grafana.settings.security.admin_password = "{fake.password("wire")}";\n'
        "}\n"
    )
    files = {
        "flake.nix": FLAKE,
        "nixos/default.nix": BUILDER,
        "modules/common.nix": COMMON,
        "machines/alpha/default.nix": alpha,
        "machines/beta/default.nix": '{ ... }:\n{\n  networking.hostName = "beta";\n}\n',
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    commit_all(root, "hosts built in nixos/")

    proc = secretkit(root, key_file, "migrate", "--yes")
    assert proc.returncode == 0, proc.stderr
    wired = "sops-nix: nixos/default.nix: inputs.sops-nix.nixosModules.sops in the modules"
    assert f"{wired} of alpha, beta" in proc.stdout
    builder = (root / "nixos/default.nix").read_text()
    assert builder == BUILDER.replace(
        "      ../modules/common.nix\n", "      ../modules/common.nix\n" + MODULE_LINE
    )
    # (pinned for the flake's 24.11: master needs a newer Go, nix/sops_nix_pins.py)
    pinned = 'sops-nix.url = "github:Mic92/sops-nix/3223c7a92724b5d804e9988c6b447a0d09017d48";'
    assert pinned in (root / "flake.nix").read_text()
    commit_all(root, "migrate")

    def point() -> list[dict[str, object]]:
        report = json.loads(secretkit(root, key_file, "check", "--format", "json").stdout)
        return [c for c in report["checks"] if c["id"] == "sops-nix-module"]

    # (beta declares no secret, but the host key path in modules/common.nix is a sops-nix
    # option too: beta needs the module as much as alpha)
    assert [(c["ok"], c["message"]) for c in point()] == [
        (True, "2 host(s) using sops-nix, each imports its NixOS module")
    ]
    (root / "nixos/default.nix").write_text(builder.replace(MODULE_LINE, ""))
    failed, other = point()
    assert other["ok"] is False
    assert str(other["message"]).startswith("host beta uses sops-nix (modules/common.nix:")
    assert failed["ok"] is False
    assert failed["message"] == (
        "host alpha uses sops-nix (machines/alpha/default.nix:4) but does not import its "
        'NixOS module: evaluating it fails with "The option `sops\' does not exist"'
    )
    assert failed["fix"] == (
        "add inputs.sops-nix.nixosModules.sops to the modules list at nixos/default.nix:9 "
        "(inputs: the flake's inputs, inputs.sops-nix.url = "
        '"github:Mic92/sops-nix/3223c7a92724b5d804e9988c6b447a0d09017d48")'
    )


def test_migrate_writes_nothing_when_it_cannot_wire_sops_nix(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    """The builder file does not receive the flake's inputs: sops-nix's module cannot be
    named there, and sops options written for alpha would not evaluate ("The option
    `sops' does not exist"), so migrate stops before the first write (exit 3) and says
    where to add it; the dry run shows the same as a step before applying."""
    from secretkit.keys import sops_yaml_edits

    root = tmp_git_repo
    admin = age_key()
    key_file = admin.write(tmp_path / "admin.txt")
    sops_yaml_edits.init(root, admin.public, "alice")
    sops_yaml_edits.add_host(root, "alpha", age_key().public)
    files = {
        "flake.nix": FLAKE.replace("inherit inputs; ", ""),
        "nixos/default.nix": BUILDER.replace("{ inputs, lib }", "{ lib }"),
        "modules/common.nix": COMMON,
        "machines/alpha/default.nix": (
            "{ config, ... }:\n{\n  services.grafana.enable = true;\n"
            f'  services.grafana.settings.security.admin_password = "{fake.password("nw")}";\n'
            "}\n"
        ),
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    commit_all(root, "hosts built in nixos/")
    before = {rel: (root / rel).read_text() for rel in files}

    dry = secretkit(root, key_file, "migrate", "--dry-run")
    shown = dry.stdout + dry.stderr
    assert "before applying: sops-nix's NixOS module is not imported by alpha" in shown
    proc = secretkit(root, key_file, "migrate", "--yes")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "sops-nix's NixOS module is not imported by alpha, and migrate cannot add it" in (
        proc.stderr
    )
    assert {rel: (root / rel).read_text() for rel in files} == before
    assert not (root / "secrets").exists()
