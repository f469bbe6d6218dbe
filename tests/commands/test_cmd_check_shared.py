"""`secretkit check` on the migrated example homelab: secrets of a module shared by
several hosts, and decrypted copies of sops files lying anywhere in the tree.

`migrate` declares the secrets of ``modules/common.nix`` (imported by all eight
hosts) with ``sopsFile = ../secrets + "/${config.networking.hostName}.yaml"``.  The
gate must resolve that once per host and check each host's own file, and it must
fail — never skip — a ``sopsFile`` it cannot resolve.

Real repositories, real age keys (the demo's host keys), real sops files written by
the engine; everything through the CLI except breaking a sops file on purpose.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from secretkit.sops import operations
from secretkit.sops.identities import load_identities
from tests.conftest import ROOT, commit_all, git
from tests.support.nixfind import EXPECTED_ACCESS, Homelab, make_homelab

COMMON = "modules/common.nix"
MIGRATE_FORM = 'sopsFile = ../secrets + "/${config.networking.hostName}.yaml";'


def cli(lab: Homelab, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), SOPS_AGE_KEY_FILE=str(lab.admin_key))
    return subprocess.run(
        [sys.executable, "-m", "secretkit", "-C", str(lab.repo), *args],
        capture_output=True,
        text=True,
        input="",
        env=env,
        timeout=300,
    )


def check(lab: Homelab) -> dict[str, list[dict[str, Any]]]:
    """The results of `secretkit check --format json`, by point."""
    proc = cli(lab, "check", "--format", "json")
    report = json.loads(proc.stdout)
    by_point: dict[str, list[dict[str, Any]]] = {}
    for result in report["checks"]:
        by_point.setdefault(result["id"], []).append(result)
    failed = any(not r["ok"] for rs in by_point.values() for r in rs)
    assert proc.returncode == (1 if failed else 0), proc.stderr
    assert report["ok"] is not failed
    return by_point


def failures(results: dict[str, list[dict[str, Any]]], point: str) -> list[dict[str, Any]]:
    return [r for r in results[point] if not r["ok"]]


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Homelab:
    base = tmp_path_factory.mktemp("homelab")
    repo = base / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Test Author")
    git(repo, "config", "user.email", "author@example.invalid")
    git(repo, "config", "commit.gpgsign", "false")
    lab = make_homelab(repo, base / "keys")
    proc = cli(lab, "migrate", "--yes")
    assert proc.returncode == 0, proc.stderr
    commit_all(repo, "migrate to sops-nix")
    assert (repo / COMMON).read_text().count(MIGRATE_FORM) == 2  # the premise of this file
    return lab


@pytest.fixture
def lab(migrated_template: Homelab, tmp_path: Path) -> Homelab:
    repo = tmp_path / "repo"
    shutil.copytree(migrated_template.repo, repo, symlinks=True)
    return Homelab(
        repo, migrated_template.admin_key, migrated_template.host_keys, migrated_template.values
    )


def drop_key(lab: Homelab, file: str, key: str) -> None:
    """Remove one key from a sops file (decrypt with the admin key, re-encrypt)."""
    path = lab.repo / file
    identities = load_identities({"SOPS_AGE_KEY_FILE": str(lab.admin_key)})
    plain = operations.decrypt_bytes(path.read_bytes(), "yaml", identities)
    plain.delete(key.split("/"))
    path.write_bytes(operations.encrypt_new(plain, operations.rule_for_file(lab.repo, path)))


def test_migrated_homelab_checks_every_host_file_of_the_shared_module(lab: Homelab) -> None:
    results = check(lab)
    # history still holds the migrated values; everything else passes
    assert {p for p, rs in results.items() if any(not r["ok"] for r in rs)} == {"plaintext-history"}
    (refs,) = results["nix-secret-refs"]
    # 2 shared secrets x 8 hosts + the 11 single-host ones: each (secret, file) checked
    singles = sum(len(keys) - 2 for keys in EXPECTED_ACCESS.values())
    assert f"({2 * len(EXPECTED_ACCESS) + singles} host/file pair(s))" in refs["message"]


def test_a_key_missing_from_one_hosts_file_fails_nix_secret_refs(lab: Homelab) -> None:
    drop_key(lab, "secrets/adguarder.yaml", "tailscale/authkey")
    commit_all(lab.repo, "lose a key")
    results = check(lab)
    assert not failures(results, "sops-mac")  # the file itself is fine
    (problem,) = failures(results, "nix-secret-refs")
    assert problem["message"] == (
        f'{COMMON}: sops.secrets."tailscale/authkey" for host adguarder needs key '
        '"tailscale/authkey" in secrets/adguarder.yaml, which has no such key'
    )
    assert problem["fix"] == (
        'add it: secretkit set secrets/adguarder.yaml \'["tailscale"]["authkey"]\' (value on stdin)'
    )
    assert problem["paths"] == [COMMON, "secrets/adguarder.yaml"]


def test_a_missing_host_file_fails_nix_secret_refs(lab: Homelab) -> None:
    git(lab.repo, "rm", "-q", "secrets/audiobookshelf.yaml")
    results = check(lab)
    messages = sorted(r["message"] for r in failures(results, "nix-secret-refs"))
    assert messages == [
        f'{COMMON}: sops.secrets."{name}" for host audiobookshelf reads '
        "secrets/audiobookshelf.yaml, which does not exist"
        for name in ("tailscale/authkey", "users/stian/hashed-password")
    ]
    fixes = sorted(r["fix"] for r in failures(results, "nix-secret-refs"))
    # the key path as sops-nix reads a name with slashes: nested, not one key
    assert fixes[0] == (
        'create it: secretkit set secrets/audiobookshelf.yaml \'["tailscale"]["authkey"]\' '
        "(value on stdin)"
    )


def test_an_ignored_host_file_is_named_as_ignored_with_a_fix_that_works(lab: Homelab) -> None:
    git(lab.repo, "rm", "-q", "--cached", "secrets/audiobookshelf.yaml")
    (lab.repo / ".gitignore").write_text("secrets/audiobookshelf.yaml\n")
    commit_all(lab.repo, "ignore a host file")
    problems = failures(check(lab), "nix-secret-refs")
    assert problems and all(
        p["message"].endswith("reads secrets/audiobookshelf.yaml, which git ignores "
                              "(it is not in the repository)")
        for p in problems
    )  # fmt: skip
    assert problems[0]["fix"].startswith("track it: git add -f secrets/audiobookshelf.yaml")
    git(lab.repo, "add", "-f", "secrets/audiobookshelf.yaml")  # the fix, followed
    commit_all(lab.repo, "track it again")
    assert not failures(check(lab), "nix-secret-refs")


def test_a_removed_host_still_importing_the_module_fails_host_readable(lab: Homelab) -> None:
    removed = cli(lab, "hosts", "remove", "jellyfin")
    assert removed.returncode == 0, removed.stderr
    commit_all(lab.repo, "remove jellyfin")
    results = check(lab)
    (problem,) = failures(results, "host-readable")
    assert problem["message"] == (
        f"host jellyfin uses secrets/jellyfin.yaml (in {COMMON}) but has no "
        "&host_jellyfin key in .sops.yaml"
    )
    assert problem["fix"].startswith("secretkit hosts add jellyfin --ssh-pubkey-file")
    assert not failures(results, "nix-secret-refs")  # its file still has both keys


def test_a_host_file_not_encrypted_for_its_host_fails_host_readable(lab: Homelab) -> None:
    # immich's values encrypted for observer's recipients: immich cannot read its file
    path = lab.repo / "secrets/immich.yaml"
    identities = load_identities({"SOPS_AGE_KEY_FILE": str(lab.admin_key)})
    plain = operations.decrypt_bytes(path.read_bytes(), "yaml", identities)
    wrong = operations.rule_for_file(lab.repo, lab.repo / "secrets/observer.yaml")
    path.write_bytes(operations.encrypt_new(plain, wrong))
    results = check(lab)
    # common.nix and hosts/immich/default.nix both read it: one problem, not two
    (problem,) = failures(results, "host-readable")
    assert problem["message"].startswith("host immich cannot read secrets/immich.yaml (used by ")
    assert problem["message"].endswith("&host_immich is not a recipient")
    assert problem["fix"] == "secretkit updatekeys secrets/immich.yaml"


@pytest.mark.parametrize(
    "form",
    [
        '"${../secrets}/${config.networking.hostName}.yaml"',
        "../secrets/${config.networking.hostName}.yaml",
        '(../secrets + "/${config.networking.hostName}.yaml")',
    ],
)
def test_other_spellings_of_the_per_host_path_are_resolved_too(lab: Homelab, form: str) -> None:
    common = lab.repo / COMMON
    common.write_text(common.read_text().replace(MIGRATE_FORM, f"sopsFile = {form};"))
    drop_key(lab, "secrets/observer.yaml", "users/stian/hashed-password")
    results = check(lab)
    (problem,) = failures(results, "nix-secret-refs")
    assert "for host observer needs key" in problem["message"]
    assert not failures(results, "host-readable")


def test_a_sops_file_it_cannot_resolve_fails_both_points(lab: Homelab) -> None:
    common = lab.repo / COMMON
    text = common.read_text()
    computed = 'sopsFile = ../secrets + "/${hostname}.yaml";'
    common.write_text(text.replace(MIGRATE_FORM, computed, 1))
    results = check(lab)
    for point in ("nix-secret-refs", "host-readable"):
        (problem,) = failures(results, point)
        assert problem["message"].startswith(f"cannot verify: {COMMON}: sops.secrets.")
        assert "needs evaluating Nix" in problem["message"]
        assert problem["fix"].startswith("write sopsFile as a relative path literal")
        assert problem["paths"] == [COMMON]


def test_a_per_host_path_in_a_module_no_host_imports_fails(lab: Homelab) -> None:
    orphan = lab.repo / "modules" / "unused.nix"
    orphan.write_text(
        f'{{ config, ... }}:\n{{\n  sops.secrets."x/y" = {{\n    {MIGRATE_FORM}\n  }};\n}}\n'
    )
    results = check(lab)
    (problem,) = failures(results, "nix-secret-refs")
    assert problem["message"] == (
        'cannot verify: modules/unused.nix: sops.secrets."x/y": sopsFile = '
        '../secrets + "/${config.networking.hostName}.yaml" names the host, but no host '
        "imports modules/unused.nix"
    )


def test_a_decrypted_copy_anywhere_is_found_by_its_keys(lab: Homelab) -> None:
    out = cli(lab, "decrypt", "secrets/immich.yaml", "--output", "immich-plain.yaml")
    assert out.returncode == 0, out.stderr
    # the same values as JSON, in a subdirectory, committed
    identities = load_identities({"SOPS_AGE_KEY_FILE": str(lab.admin_key)})
    data = (lab.repo / "secrets/observer.yaml").read_bytes()
    plain = operations.decrypt_bytes(data, "yaml", identities).to_python()
    (lab.repo / "backup").mkdir()
    (lab.repo / "backup" / "observer.json").write_text(json.dumps(plain))
    git(lab.repo, "add", "backup/observer.json")
    # a file with only some of the keys is not a copy
    (lab.repo / "notes.yaml").write_text("tailscale:\n  authkey: see the admin console\n")

    results = check(lab)
    found = {r["paths"][0]: r for r in failures(results, "decrypted-copy")}
    assert set(found) == {"immich-plain.yaml", "backup/observer.json"}
    assert found["immich-plain.yaml"]["message"] == (
        "immich-plain.yaml (untracked, not ignored) has exactly the keys of the sops file "
        "secrets/immich.yaml: it looks like a decrypted copy"
    )
    assert "delete it" in found["immich-plain.yaml"]["fix"]
    assert ".gitignore" in found["immich-plain.yaml"]["fix"]
    # staged, not committed: nothing is published yet (helper-128), unstaging is the fix
    assert found["backup/observer.json"]["message"].startswith(
        "backup/observer.json (staged, not committed yet) has exactly the keys of the sops "
        "file secrets/observer.yaml"
    )
    fix = found["backup/observer.json"]["fix"]
    assert fix == "git rm -q --cached backup/observer.json && rm backup/observer.json"
    assert "encrypt -i" not in fix  # (no creation rule names it: encrypt would refuse it)

    # ignored, it is not published: the point passes again
    git(lab.repo, "rm", "-q", "--cached", "backup/observer.json")
    (lab.repo / ".gitignore").write_text("immich-plain.yaml\nbackup/\n")
    assert not failures(check(lab), "decrypted-copy")


def test_a_shared_secret_without_sops_file_uses_each_hosts_default(lab: Homelab) -> None:
    common = lab.repo / COMMON
    text = common.read_text()
    common.write_text(text.replace("{\n", '{\n  sops.secrets."extra" = { };\n', 1))
    # observer's default file has no such key; the other hosts set no default at all
    observer = lab.repo / "hosts/observer/default.nix"
    observer.write_text(
        observer.read_text().replace(
            "{\n", "{\n  sops.defaultSopsFile = ../../secrets/observer.yaml;\n", 1
        )
    )
    results = check(lab)
    messages = [r["message"] for r in failures(results, "nix-secret-refs")]
    assert (
        f'{COMMON}: sops.secrets."extra" for host observer needs key "extra" in '
        "secrets/observer.yaml, which has no such key"
    ) in messages
    unverified = {m.split(" for host ")[1].split(":")[0] for m in messages if "cannot" in m}
    assert unverified == set(EXPECTED_ACCESS) - {"observer"}
    assert len(messages) == len(EXPECTED_ACCESS)


@pytest.mark.slow
def test_the_host_name_the_host_sets_decides_which_file_it_reads(lab: Homelab) -> None:
    # observer now calls itself adguarder: it would read secrets/adguarder.yaml, which
    # is not encrypted for it
    observer = lab.repo / "hosts/observer/default.nix"
    text = observer.read_text()
    assert 'networking.hostName = "observer";' in text
    observer.write_text(text.replace('"observer";', '"adguarder";'))
    results = check(lab)
    (problem,) = failures(results, "host-readable")
    assert problem["message"] == (
        f"host observer cannot read secrets/adguarder.yaml (used by {COMMON}): "
        "&host_observer is not a recipient"
    )
    # (adding observer to adguarder's rule would give it every secret of adguarder)
    assert problem["fix"].startswith("give observer its own copy")
    assert '(its networking.hostName says adguarder: make it "observer")' in problem["fix"]
    # (the module's own path to the secrets folder)
    assert (
        f'sopsFile = ../secrets + "/${{config.networking.hostName}}.yaml" in {COMMON}'
        in (problem["fix"])
    )
    assert "would let it read every secret of adguarder" in problem["fix"]
    assert not failures(results, "nix-secret-refs")

    # set twice to different names: not guessed
    monitoring = lab.repo / "hosts/observer/monitoring.nix"
    monitoring.write_text(
        monitoring.read_text().replace("{\n", '{\n  networking.hostName = "observer";\n', 1)
    )
    results = check(lab)
    for point in ("nix-secret-refs", "host-readable"):
        messages = {r["message"] for r in failures(results, point)}
        assert messages == {
            f'cannot verify: {COMMON}: sops.secrets."{name}" for host observer: host '
            "observer sets networking.hostName to several different values"
            for name in ("tailscale/authkey", "users/stian/hashed-password")
        }


def test_a_host_file_git_does_not_track_yet_fails_with_git_add(lab: Homelab) -> None:
    """Right after migrate, secrets/ is untracked: a flake does not see it."""
    git(lab.repo, "rm", "-q", "--cached", "secrets/audiobookshelf.yaml")
    assert (lab.repo / "secrets/audiobookshelf.yaml").is_file()
    git(lab.repo, "commit", "-q", "-m", "untrack it")
    problems = failures(check(lab), "nix-secret-refs")
    assert len(problems) == 1  # said once for the file, not per secret in it
    assert (
        "reads secrets/audiobookshelf.yaml, which git does not track yet"
        in (problems[0]["message"])
    )
    assert problems[0]["fix"] == "git add secrets/audiobookshelf.yaml"
    git(lab.repo, "add", "secrets/audiobookshelf.yaml")  # the fix, followed
    assert not failures(check(lab), "nix-secret-refs")


def test_several_untracked_host_files_are_one_group_with_one_command(lab: Homelab) -> None:
    from secretkit.commands.check import render, run_check

    for name in ("audiobookshelf", "jellyfin"):
        git(lab.repo, "rm", "-q", "--cached", f"secrets/{name}.yaml")
    git(lab.repo, "commit", "-q", "-m", "untrack two")
    text = "\n".join(render(run_check(lab.repo)))
    assert "a sops file git does not track yet (a flake does not see it) — " in text
    assert "fix: git add secrets/audiobookshelf.yaml secrets/jellyfin.yaml" in text
    git(lab.repo, "add", "secrets/audiobookshelf.yaml", "secrets/jellyfin.yaml")  # followed
    assert not failures(check(lab), "nix-secret-refs")


@pytest.mark.parametrize(
    ("value", "verified"),
    [
        ('hosts.immich.hostName or "immich"', False),  # (a host set's attribute)
        ('builtins.head [ "immich" ]', False),
        ("lib.mkDefault name", True),  # the name a host set hands each host
    ],
)
def test_a_host_name_no_reading_can_tell_is_not_taken_for_the_hosts(
    lab: Homelab, value: str, verified: bool
) -> None:
    """A stranger's flake-parts homelab: `{ networking.hostName = host.hostName; }` for
    every host of `lib.mapAttrs (name: host: …) hosts`, with host nas named "nas-01".
    check took each host's name for it and said the shared module's sopsFile "all
    resolve"; NixOS then read secrets/nas-01.yaml, which migrate had not written."""
    module = lab.repo / "hosts" / "immich" / "default.nix"
    text = module.read_text()
    module.write_text(
        text.replace('networking.hostName = "immich";', f"networking.hostName = {value};")
    )
    results = check(lab)
    problems = [p for p in failures(results, "nix-secret-refs") if "host immich" in p["message"]]
    if verified:
        assert problems == []
        return
    assert problems and all("cannot verify" in p["message"] for p in problems)
    assert "which secretkit cannot read without evaluating Nix" in problems[0]["message"]
    assert problems[0]["fix"].startswith("write that networking.hostName as something")
