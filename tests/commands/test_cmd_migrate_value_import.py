"""A secret in a file imported for its value (``creds = import ../creds.nix;``), not a
module: migrate refuses it, and migrate, check and the hook name the route through the
module that imports it.  The route is followed here and the result evaluated; the
old advice (``{ config, ... }:`` and a declaration in the file itself) is shown to
break evaluation."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import commit_all, git, need_tool
from tests.support import fake

FLAKE = """{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";
  outputs = { self, nixpkgs, ... }: {
    nixosConfigurations.h = nixpkgs.lib.nixosSystem { modules = [ ./hosts/h/configuration.nix ]; };
  };
}
"""
MODULE = """{ config, ... }:
let
  creds = import ../../profiles/creds.nix;
in
{
  services.mosquitto.enable = true;
  services.mosquitto.listeners = [ {
    users.${creds.mqttUser}.password = creds.mqttPassword;
  } ];
}
"""
CREDS = '{\n  mqttUser = "homeassistant";\n  mqttPassword = "@PW@";\n}\n'


@dataclass
class Lab:
    repo: Path
    admin: Path
    value: str

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
        env["SOPS_AGE_KEY_FILE"] = str(self.admin)
        return subprocess.run(
            [sys.executable, "-m", "secretkit", "-C", str(self.repo), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )


@pytest.fixture
def lab(tmp_git_repo: Path, tmp_path: Path) -> Lab:
    from secretkit.commands.demo import demo_admin_key, demo_host_key
    from secretkit.keys import sops_yaml_edits
    from secretkit.keys.ssh_to_age import ssh_pubkey_to_age

    repo = tmp_git_repo
    value = fake.password("mqtt")
    (repo / "flake.nix").write_text(FLAKE)
    (repo / "hosts/h").mkdir(parents=True)
    (repo / "hosts/h/configuration.nix").write_text(MODULE)
    (repo / "profiles").mkdir()
    (repo / "profiles/creds.nix").write_text(CREDS.replace("@PW@", value))
    admin, public = demo_admin_key(tmp_path / "keys")
    sops_yaml_edits.init(repo, public, "tester")
    line, _ = demo_host_key(tmp_path / "keys", "h")
    sops_yaml_edits.add_host(repo, "h", ssh_pubkey_to_age(line))
    commit_all(repo, "a host reading creds.nix for its value")
    return Lab(repo, admin, value)


def _steps(out: str) -> list[str]:
    return [line.split("by hand: ", 1)[1] for line in out.splitlines() if "by hand: " in line]


def test_migrate_refuses_and_routes_through_the_importer(lab: Lab) -> None:
    before = (lab.repo / "profiles/creds.nix").read_bytes()
    proc = lab.run("migrate", "--dry-run")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert lab.value not in out
    assert "profiles/creds.nix is no NixOS module" in out
    steps = _steps(out)
    assert not [s for s in steps if "arguments of profiles/creds.nix" in s], steps
    assert not [s for s in steps if s.startswith("in profiles/creds.nix")], steps
    declare = [s for s in steps if s.startswith("in hosts/h/configuration.nix")]
    assert declare and 'sops.secrets."mqttpassword"' in declare[0], steps
    assert any("hosts/h/configuration.nix:8" in s and "delete mqttPassword" in s for s in steps)
    proc = lab.run("migrate", "--yes")  # refused, so nothing is rewritten
    assert (lab.repo / "profiles/creds.nix").read_bytes() == before


def _evaluate(repo: Path) -> subprocess.CompletedProcess[str]:
    expr = (
        f"(import {repo}/hosts/h/configuration.nix {{ config.sops.secrets.mqttpassword.path ="
        ' "/run/secrets/mqttpassword"; }).services.mosquitto.listeners'
    )
    return subprocess.run(
        [need_tool("nix-instantiate"), "--eval", "--strict", "-E", expr],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_route_evaluates_and_the_old_one_does_not(lab: Lab) -> None:
    creds = lab.repo / "profiles/creds.nix"
    module = lab.repo / "hosts/h/configuration.nix"
    # the old advice: creds.nix made a function of config → the importer gets a function
    creds.write_text("{ config, ... }:\n" + creds.read_text())
    assert "while a set was expected" in _evaluate(lab.repo).stderr
    git(lab.repo, "checkout", "--", ".")
    # the route: the declaration and the reference in the importer, the value deleted
    creds.write_text("".join(x for x in creds.read_text().splitlines(True) if "mqttPass" not in x))
    text = module.read_text().replace(
        "creds.mqttPassword", 'config.sops.secrets."mqttpassword".path'
    )
    module.write_text(text.replace("in\n{\n", 'in\n{\n  sops.secrets."mqttpassword" = { };\n'))
    proc = _evaluate(lab.repo)
    assert proc.returncode == 0, proc.stderr
    assert "/run/secrets/mqttpassword" in proc.stdout
    for path in (creds, module):
        nix = need_tool("nix-instantiate")
        parsed = subprocess.run([nix, "--parse", str(path)], capture_output=True, timeout=60)
        assert parsed.returncode == 0
    assert lab.value not in creds.read_text()


def _fixes(out: str) -> list[str]:
    return [line.split("fix: ", 1)[1] for line in out.splitlines() if "fix: " in line]


def test_check_and_hook_name_the_importer(lab: Lab) -> None:
    proc = lab.run("check", "--source-only")
    (check,) = [f for f in _fixes(proc.stdout + proc.stderr) if "creds.nix" in f]
    with (lab.repo / "profiles/creds.nix").open("a") as f:
        f.write("# staged\n")
    git(lab.repo, "add", "profiles/creds.nix")
    proc = lab.run("hook", "--strict")
    assert proc.returncode == 1
    (hook,) = _fixes(proc.stdout + proc.stderr)
    for fix in (check, hook):
        assert lab.value not in fix
        assert 'declare sops.secrets."<name>" (with sopsFile = <' in fix
        assert "sops.defaultSopsFile is that file) in hosts/h/configuration.nix, not in" in fix
        assert "hosts/h/configuration.nix:8" in fix and "delete mqttPassword" in fix
        assert "stays a plain attrset" in fix


def test_the_sops_file_path_is_written_from_the_module_that_reads_the_value(lab: Lab) -> None:
    """helper-125: a secrets.nix two hosts import, read by one: the steps gave
    `sopsFile = ./secrets + …` (the path from the value file's folder, the repository's
    top) for the declaration in hosts/h/configuration.nix, where it names nothing."""
    from secretkit.commands.demo import demo_host_key
    from secretkit.keys import sops_yaml_edits
    from secretkit.keys.ssh_to_age import ssh_pubkey_to_age

    flake = FLAKE.replace(
        "modules = [ ./hosts/h/configuration.nix ]; };",
        "modules = [ ./hosts/h/configuration.nix ]; };\n    nixosConfigurations.g = "
        "nixpkgs.lib.nixosSystem { modules = [ ./hosts/g/configuration.nix ]; };",
    )
    (lab.repo / "flake.nix").write_text(flake)
    (lab.repo / "hosts/g").mkdir()
    (lab.repo / "hosts/g/configuration.nix").write_text(
        "{ ... }:\nlet\n  creds = import ../../profiles/creds.nix;\nin\n{\n"
        "  services.mosquitto.enable = true;\n}\n"
    )
    line, _ = demo_host_key(lab.admin.parent, "g")
    sops_yaml_edits.add_host(lab.repo, "g", ssh_pubkey_to_age(line))
    commit_all(lab.repo, "a second host importing creds.nix, not reading the password")
    proc = lab.run("migrate", "--dry-run")
    steps = _steps(proc.stdout + proc.stderr)
    declare = [s for s in steps if 'sops.secrets."mqttpassword"' in s and " add: " in s]
    assert declare and "sopsFile = ../../secrets" in declare[0], steps
    assert "sopsFile = ./secrets" not in declare[0]
