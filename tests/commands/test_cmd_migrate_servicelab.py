"""The proof on ``examples/servicelab`` (6 hosts, 34 secrets across the newer families,
two shared modules, a computed user name, a ``writeText`` password, a Syncthing API
key shared with Prometheus) and on ``examples/homelab``: after ``migrate --yes`` no
secret value is left in the tree, every changed file parses with ``nix-instantiate
--parse``, every host evaluates in the harness against the recorded declarations,
every file a service opens is owned by the user of the process that opens it (and by
nobody else: mode 0400), each host decrypts exactly what it uses, ``check`` passes
once history is purged, and a second ``migrate`` changes nothing.

Secrets the scanner does not find yet would be handed to ``migrate.prepare(also=…)``
by their positions, and the test asserts which ones they are (none now: the last,
restic's ``rcloneConfig.key``, is found since this change).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from secretkit.commands import migrate
from secretkit.commands.demo import demo_admin_key, demo_host_key
from secretkit.keys import sops_yaml_edits
from secretkit.keys.ssh_to_age import ssh_private_key_to_age, ssh_pubkey_to_age
from secretkit.scan.one_file import scan_bytes
from secretkit.sops import operations
from secretkit.sops.identities import load_identities
from tests.conftest import ROOT, commit_all, git, need_tool
from tests.support.harness import evaluate, problems
from tests.support.nixfind import FakeFinding, fill

LAB = ROOT / "examples" / "servicelab"
HOSTS = {
    "gateway": ["modules/base.nix", "hosts/gateway/default.nix"],
    "forge": ["modules/base.nix", "modules/mail.nix", "hosts/forge/default.nix"],
    "media": ["modules/base.nix", "hosts/media/default.nix"],
    "sync": ["modules/base.nix", "modules/mail.nix", "hosts/sync/default.nix"],
    "monitor": ["modules/base.nix", "hosts/monitor/default.nix"],
    "home": ["modules/base.nix", "hosts/home/default.nix"],
}
NOT_SCANNED_YET: set[str] = set()  # (rcloneConfig.key was the last)

pytestmark = pytest.mark.slow  # real nix-instantiate per host, real age, git


@dataclass
class Lab:
    repo: Path
    admin_key: Path
    host_keys: dict[str, Path]
    values: dict[str, str]
    before: dict[str, bytes]
    written: list[str]


def _cli(repo: Path, admin: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), SOPS_AGE_KEY_FILE=str(admin))
    return subprocess.run(
        [sys.executable, "-m", "secretkit", "-C", str(repo), *args],
        capture_output=True, text=True, input=stdin, env=env, timeout=300,
    )  # fmt: skip


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("servicelab")
    repo = base / "repo"
    shutil.copytree(LAB, repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Test Author")
    git(repo, "config", "user.email", "author@example.invalid")
    git(repo, "config", "commit.gpgsign", "false")
    values: dict[str, str] = {}
    unscanned: list[FakeFinding] = []
    missed: set[str] = set()
    for file in sorted(repo.rglob("*.nix")):
        rel = file.relative_to(repo).as_posix()
        data, findings, filled = fill(file.read_bytes(), rel, public=())
        file.write_bytes(data)
        values.update(filled)
        found, _ = scan_bytes(rel, data)
        spans = {(f.start, f.end) for f in found}
        for finding in findings:
            if (finding.start, finding.end) not in spans:
                unscanned.append(finding)
                missed |= {k for k, v in filled.items() if v == finding.secret.reveal()}
    assert missed == NOT_SCANNED_YET
    keys = base / "keys"
    admin, public = demo_admin_key(keys)
    sops_yaml_edits.init(repo, public, "tester")
    host_keys = {}
    for host in HOSTS:
        line, private = demo_host_key(keys, host)
        assert private is not None
        host_keys[host] = private
        sops_yaml_edits.add_host(repo, host, ssh_pubkey_to_age(line))
    commit_all(repo, "servicelab")
    before = {p.relative_to(repo).as_posix(): p.read_bytes() for p in repo.rglob("*.nix")}
    old = os.environ.get("SOPS_AGE_KEY_FILE")
    os.environ["SOPS_AGE_KEY_FILE"] = str(admin)
    try:
        prepared = migrate.prepare(repo, also=unscanned)
        assert prepared.plan.refused == [], [r.message() for r in prepared.plan.refused]
        written = migrate.apply(prepared)
    finally:
        if old is None:
            del os.environ["SOPS_AGE_KEY_FILE"]
        else:
            os.environ["SOPS_AGE_KEY_FILE"] = old
    yield Lab(repo, admin, host_keys, values, before, written)


def test_the_example_is_as_big_as_promised(lab: Lab) -> None:
    assert len(HOSTS) >= 6
    assert len(lab.values) >= 30
    assert sum(1 for m in HOSTS.values() if "modules/mail.nix" in m) == 2


def test_no_secret_value_is_left_in_the_tree(lab: Lab) -> None:
    for file in lab.repo.rglob("*"):
        if ".git" in file.relative_to(lab.repo).parts or not file.is_file():
            continue
        data = file.read_bytes()
        for name, value in lab.values.items():
            assert value.encode() not in data, (file, name)


def test_every_changed_file_parses_with_nix(lab: Lab) -> None:
    nix = need_tool("nix-instantiate")
    changed = [rel for rel, old in lab.before.items() if (lab.repo / rel).read_bytes() != old]
    assert len(changed) == 9  # flake.nix + 2 shared modules + 6 hosts
    for rel in changed:
        proc = subprocess.run([nix, "--parse", str(lab.repo / rel)], capture_output=True)
        assert proc.returncode == 0, (rel, proc.stderr.decode())


@pytest.mark.parametrize("host", sorted(HOSTS))
def test_host_evaluates_and_each_reader_owns_its_files(lab: Lab, host: str, tmp_path: Path) -> None:
    need_tool("nix-instantiate")
    facts = evaluate(lab.repo, HOSTS[host], host, tmp_path)
    assert facts["secrets"], host
    assert problems(host, facts, job_users=set()) == []
    assert facts["openssh"]["enable"] is True
    assert facts["age"]["sshKeyPaths"] == ["/etc/ssh/ssh_host_ed25519_key"]


def test_a_service_config_set_to_a_value_gets_its_environment_file_through_mkmerge(
    lab: Lab, tmp_path: Path
) -> None:
    # `serviceConfig = hardening;` takes no serviceConfig.EnvironmentFile beside it
    text = (lab.repo / "hosts/media/default.nix").read_text()
    assert "serviceConfig = lib.mkMerge [\n      hardening\n      { EnvironmentFile" in text
    facts = evaluate(lab.repo, HOSTS["media"], "media", tmp_path)
    upload = facts["serviceConfigs"]["photo-upload"]
    assert upload["ProtectSystem"] == "strict"
    assert upload["EnvironmentFile"] == [facts["templates"]["photo-upload.env"]["path"]]


def test_the_syncthing_key_is_both_the_env_key_and_the_bearer_credential(lab: Lab) -> None:
    sync = _decrypt(lab, "sync")
    monitor = _decrypt(lab, "monitor")
    key = lab.values["SYNCTHING_API_KEY"]
    assert sync[("syncthing", "gui", "apikey")] == key
    assert monitor[("prometheus", "syncthing", "credentials")] == key
    text = (lab.repo / "hosts/sync/default.nix").read_text()
    assert "STGUIAPIKEY=${config.sops.placeholder" in text
    assert "apikey" not in text.split("sops.secrets")[0]


def _decrypt(lab: Lab, host: str) -> dict[tuple[str, ...], str]:
    # as sops-nix does on the host: the ssh host key converted to an X25519 identity
    age_key = ssh_private_key_to_age(lab.host_keys[host].read_bytes())
    ids = load_identities({"SOPS_AGE_KEY": age_key.reveal()})
    plain = operations.decrypt_bytes((lab.repo / f"secrets/{host}.yaml").read_bytes(), "yaml", ids)
    return {tuple(str(k) for k in keys): str(v) for keys, v in plain.leaves()}


@pytest.mark.parametrize("host", sorted(HOSTS))
def test_each_host_decrypts_exactly_what_it_uses(lab: Lab, host: str, tmp_path: Path) -> None:
    need_tool("nix-instantiate")
    facts = evaluate(lab.repo, HOSTS[host], host, tmp_path)
    used = {tuple(name.split("/")) for name in facts["secrets"]}
    assert set(_decrypt(lab, host)) == used


def test_second_migrate_is_a_no_op_and_check_passes_after_purge(lab: Lab, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(lab.repo, repo, symlinks=True)
    commit_all(repo, "migrate to sops-nix")
    again = _cli(repo, lab.admin_key, "migrate", "--yes")
    assert again.returncode == 0, again.stderr
    assert "nothing to migrate" in again.stdout
    assert git(repo, "status", "--porcelain") == ""
    purged = _cli(repo, lab.admin_key, "purge", "--yes")
    assert purged.returncode == 0, purged.stderr
    # purge's local backup still holds the old values: the gate fails until it is dropped
    assert _cli(repo, lab.admin_key, "check").returncode == 1
    for ref in git(repo, "for-each-ref", "--format=%(refname)", "refs/secretkit/backup/").split():
        git(repo, "update-ref", "-d", ref)
    checked = _cli(repo, lab.admin_key, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
