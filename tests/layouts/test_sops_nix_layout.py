"""A plain sops-nix repository with a hand-written .sops.yaml (its own path_regex,
anchors not named host_<h>, two key groups (the admin holds a key in each), several
files per host, a defaultSopsFile, a module shared by two hosts): `check` understands
it."""

from __future__ import annotations

from pathlib import Path

import pyrage
import pytest

from secretkit.commands.check import run_check
from tests.conftest import commit_all
from tests.keys.layouts import write
from tests.support.cli import run_main

SOPS_YAML = """# hand-written
keys:
  - &alice {alice}
  - &alice_offline {offline}
  - &server_web {web}
  - &server_db {db}
creation_rules:
  - path_regex: hosts/web/secrets/[^/]+\\.yaml$
    key_groups:
      - age: [*alice, *server_web]
  - path_regex: hosts/db/secrets/[^/]+\\.yaml$
    key_groups:
      - age: [*alice, *server_db]
      - age: [*alice_offline]
  - path_regex: secrets/common\\.yaml$
    key_groups:
      - age: [*alice, *server_web, *server_db]
"""

NIX = {
    "flake.nix": (
        "{\n  outputs = { self, nixpkgs, sops-nix, ... }: {\n"
        "    nixosConfigurations.web = nixpkgs.lib.nixosSystem {\n"
        "      modules = [ sops-nix.nixosModules.sops ./hosts/web/configuration.nix ];\n    };\n"
        "    nixosConfigurations.db = nixpkgs.lib.nixosSystem {\n"
        "      modules = [ sops-nix.nixosModules.sops ./hosts/db/configuration.nix ];\n    };\n"
        "  };\n}\n"
    ),
    "hosts/web/configuration.nix": (
        "{ config, ... }: {\n  imports = [ ../../modules/common.nix ];\n"
        "  sops.defaultSopsFile = ./secrets/main.yaml;\n"
        '  sops.secrets.htpasswd = { owner = "nginx"; };\n'
        "  sops.secrets.api-token = { sopsFile = ./secrets/api.yaml; };\n"
        "  services.nginx.enable = true;\n"
        "  services.nginx.virtualHosts.web.basicAuthFile = config.sops.secrets.htpasswd.path;\n}\n"
    ),
    "hosts/db/configuration.nix": (
        "{ ... }: {\n  imports = [ ../../modules/common.nix ];\n"
        '  sops.secrets."postgres/password" = { sopsFile = ./secrets/db.yaml; };\n}\n'
    ),
    "modules/common.nix": (
        "{ ... }: {\n  sops.secrets.wifi-psk = { sopsFile = ../secrets/common.yaml; };\n}\n"
    ),
}

PLAIN = {
    "hosts/web/secrets/main.yaml": "htpasswd: fake-one\n",
    "hosts/web/secrets/api.yaml": "api-token: fake-two\n",
    "hosts/db/secrets/db.yaml": "postgres:\n  password: fake-three\n",
    "secrets/common.yaml": "wifi-psk: fake-four\n",
}


@pytest.fixture
def repo(
    tmp_git_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Path:
    ids = {n: pyrage.x25519.Identity.generate() for n in ("alice", "offline", "web", "db")}
    keys = {n: str(i.to_public()) for n, i in ids.items()}
    write(tmp_git_repo, {".sops.yaml": SOPS_YAML.format(**keys), **NIX, **PLAIN})
    monkeypatch.setenv("SOPS_AGE_KEY", f"{ids['alice']}\n{ids['offline']}")
    for path in PLAIN:
        code, _, err = run_main(capsys, "-C", str(tmp_git_repo), "encrypt", "-i", path)
        assert code == 0, err
    commit_all(tmp_git_repo, "secrets")
    return tmp_git_repo


def test_a_hand_written_sops_nix_repo_passes(repo: Path) -> None:
    report = run_check(repo)
    assert [r.message for r in report.failed] == []
    messages = {r.id: r.message for r in report.results}
    assert messages["sops-recipients"] == "4 sops file(s) match their rules' recipients"
    assert messages["nix-secret-refs"].startswith("4 declared secret(s) (4 host/file pair(s))")


def test_a_host_left_out_of_a_shared_file_is_one_failure_each_step(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (repo / ".sops.yaml").read_text()
    narrower = text.replace("[*alice, *server_web, *server_db]", "[*alice, *server_web]")
    (repo / ".sops.yaml").write_text(narrower)
    # the file is still encrypted for db's key, which its rule no longer names
    (failure,) = run_check(repo).failed
    assert failure.id == "sops-recipients" and failure.paths == ("secrets/common.yaml",)
    assert "not in the rule" in failure.message
    # (the data key of that file only: doctor-cluster's stranger was told to re-key all)
    assert failure.fix.endswith("secretkit rotate data-keys secrets/common.yaml)")
    # re-keyed as the rule says: now db, which uses the file, cannot read it
    code, _, err = run_main(capsys, "-C", str(repo), "updatekeys", "secrets/common.yaml")
    assert code == 0, err
    (failure,) = run_check(repo).failed
    assert failure.id == "host-readable"
    assert failure.message.startswith("host db cannot read secrets/common.yaml")
    assert "&server_db is not a recipient" in failure.message
    assert failure.fix.startswith("add *server_db to the creation rule for secrets/common.yaml")


def test_secretkits_own_shape_is_spelled_by_the_layout_alone(tmp_path: Path) -> None:
    """What `init` and `hosts add` write is the layout's spelling: the anchors, the
    per-host file, and a rule the engine picks for exactly that file."""
    from secretkit.keys import sops_yaml, sops_yaml_edits
    from secretkit.layouts import sops_nix
    from secretkit.sops.config import load_config

    admin, web = (str(pyrage.x25519.Identity.generate().to_public()) for _ in range(2))
    sops_yaml_edits.init(tmp_path, admin, "alice")
    sops_yaml_edits.add_host(tmp_path, "web", web)
    text = (tmp_path / ".sops.yaml").read_text()
    assert f"&{sops_nix.admin_anchor('alice')} {admin}" in text
    assert f"&{sops_nix.host_anchor('web')} {web}" in text
    assert f"path_regex: {sops_nix.host_rule_regex('web')}" in text
    assert sops_nix.host_secrets_path("web") == "secrets/web.yaml"
    assert sops_nix.host_anchor("web") == "host_web" and sops_nix.admin_anchor("a") == "admin_a"
    keys = sops_yaml.read_keys(tmp_path)
    assert keys.admins == {"alice": admin} and keys.hosts == {"web": web}
    rule = load_config(tmp_path / ".sops.yaml").rule_for(
        tmp_path / sops_nix.host_secrets_path("web")
    )
    assert rule is not None and rule.recipients() == [[admin, web]]
    other = tmp_path / sops_nix.host_secrets_path("web2")
    assert load_config(tmp_path / ".sops.yaml").rule_for(other) is None
    assert sops_nix.host_of_anchor("host_web") == "web" and sops_nix.is_host_anchor("host_web")
    assert not sops_nix.is_admin_anchor("host_web") and not sops_nix.is_host_anchor(None)


def test_a_host_key_anchored_under_the_host_name_spelled_with_underscores() -> None:
    from secretkit.layouts.sops_nix import host_key

    anchors = {"admin_jarrett": "pgp", "rss_server": "age-r", "garage": "age-g"}
    assert host_key({}, anchors, "rss-server") == "age-r"
    assert host_key({}, anchors, "garage-ct") is None  # garage is not garage-ct
    assert (
        host_key({}, {"rss_server": "a", "rss-server": "b"}, "rss-server") is None
    )  # never a guess


def test_a_configuration_name_hosts_add_refuses_is_found_under_the_name_it_was_given() -> None:
    from secretkit.layouts.sops_nix import host_anchor, host_key, host_slug

    # snowfall's home alice@pebble: `secretkit hosts add alice-pebble` (what migrate says)
    assert host_slug("alice@pebble") == "alice-pebble"
    assert host_anchor("alice@pebble") == "host_alice-pebble"
    hosts = {"alice-pebble": "age1alice", "pebble": "age1pebble"}
    anchors = {"host_alice-pebble": "age1alice", "host_pebble": "age1pebble"}
    assert host_key(hosts, anchors, "alice@pebble") == "age1alice"
    assert host_key(hosts, anchors, "pebble") == "age1pebble"
