"""`secretkit check`: a repository built to pass, then broken one point at a time.

The passing repository is made with the project's own APIs: `.sops.yaml` through
`secretkit.keys.sops_yaml` (admin + host `observer`), a real age-encrypted
`secrets/observer.yaml` through the sops engine, and a host module that declares
and uses the secret as sops-nix expects.  Each broken variant must fail exactly
the point it breaks, and print that point's fix.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import ROOT, commit_all
from tests.sops.keys_support import AgeKey, age_key
from tests.support import fake

if TYPE_CHECKING:
    from secretkit.sops.config import CreationRule

ALL_POINTS = {
    "plaintext-tree",
    "plaintext-history",
    "sops-mac",
    "sops-recipients",
    "nix-secret-refs",
    "host-readable",
    "service-readable",
    "sops-nix-module",
    "decrypted-copy",
}

OBSERVER_NIX = """\
{ config, ... }:
{
  imports = [ <sops-nix/modules/sops> ];
  sops.defaultSopsFile = ../../secrets/observer.yaml;
  sops.secrets."alertmanager/pushover/token" = {
    # (root's: systemd reads an EnvironmentFile; alertmanager is a DynamicUser)
  };
  services.prometheus.alertmanager.environmentFile =
    config.sops.secrets."alertmanager/pushover/token".path;
}
"""

LAPTOP_NIX = """\
{ config, ... }:
{
  networking.hostName = "laptop";
}
"""


@dataclass
class Repo:
    root: Path
    admin: AgeKey
    observer: AgeKey
    laptop: AgeKey
    env: dict[str, str]

    def check(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        full = dict(os.environ, PYTHONPATH=str(ROOT), **self.env)
        full.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "secretkit", "check", *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            env=full,
        )

    def failed_points(
        self, env: dict[str, str] | None = None
    ) -> tuple[set[str], dict[str, object]]:
        proc = self.check("--format", "json", env=env)
        assert proc.returncode in (0, 1), proc.stderr
        report = json.loads(proc.stdout)
        failed = {c["id"] for c in report["checks"] if not c["ok"]}
        assert report["ok"] is (not failed)
        assert proc.returncode == (1 if failed else 0)
        return failed, report


def check_json(root: Path) -> subprocess.CompletedProcess[str]:
    """`secretkit check --format json` in ``root``, no key given."""
    return subprocess.run(
        [sys.executable, "-m", "secretkit", "check", "--format", "json"],
        cwd=root,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )


def encrypt_for(root: Path, relpath: str, values: dict[str, object]) -> bytes:
    from secretkit.sops import document, operations
    from secretkit.sops.config import find_config

    config = find_config(root)
    assert config is not None
    rule = config.rule_for(root / relpath)
    assert rule is not None
    return operations.encrypt_new(document.new_plain("yaml", values), rule)


@pytest.fixture
def repo(tmp_git_repo: Path, tmp_path: Path) -> Repo:
    from secretkit.keys import sops_yaml_edits

    root = tmp_git_repo
    admin, observer, laptop = age_key(), age_key(), age_key()
    key_file = admin.write(tmp_path / "admin-keys.txt")
    sops_yaml_edits.init(root, admin.public, "alice")
    sops_yaml_edits.add_host(root, "observer", observer.public)
    sops_yaml_edits.add_host(root, "laptop", laptop.public)
    (root / "hosts" / "observer").mkdir(parents=True)
    (root / "hosts" / "laptop").mkdir(parents=True)
    (root / "hosts" / "observer" / "default.nix").write_text(OBSERVER_NIX)
    (root / "hosts" / "laptop" / "default.nix").write_text(LAPTOP_NIX)
    (root / "secrets").mkdir()
    token = {"alertmanager": {"pushover": {"token": fake.pushover_token("check")}}}
    (root / "secrets" / "observer.yaml").write_bytes(
        encrypt_for(root, "secrets/observer.yaml", token)
    )
    commit_all(root, "homelab with sops-nix")
    return Repo(root, admin, observer, laptop, {"SOPS_AGE_KEY_FILE": str(key_file)})


def test_a_clean_repository_passes(repo: Repo) -> None:
    failed, report = repo.failed_points()
    assert failed == set()
    assert {c["id"] for c in report["checks"]} == ALL_POINTS
    assert report["version"] == 1
    text = repo.check()
    assert text.returncode == 0
    assert "safe to publish" in text.stdout
    assert "FAIL" not in text.stdout


# --- one broken point at a time -------------------------------------------------------
def plaintext_in_tree(repo: Repo) -> None:
    (repo.root / "hosts" / "observer" / "borg.nix").write_text(
        f'{{ services.borgbackup.jobs.home.encryption.passphrase = "{fake.passphrase("chk")}"; }}\n'
    )


def plaintext_in_history(repo: Repo) -> None:
    note = repo.root / "hosts" / "observer" / "old.nix"
    note.write_text(f'{{ services.foo.password = "{fake.password("hist")}"; }}\n')
    commit_all(repo.root, "oops")
    note.unlink()
    commit_all(repo.root, "remove it")


def tampered_sops_file(repo: Repo) -> None:
    path = repo.root / "secrets" / "observer.yaml"
    data = path.read_text()
    start = data.index("data:") + len("data:")
    flipped = "B" if data[start] != "B" else "C"
    path.write_text(data[:start] + flipped + data[start + 1 :])


def pending_updatekeys(repo: Repo) -> None:
    from secretkit.keys import sops_yaml_edits

    sops_yaml_edits.init(repo.root, age_key().public, "bob")  # a second admin: every rule gains it


def undeclared_reference(repo: Repo) -> None:
    (repo.root / "hosts" / "observer" / "grafana.nix").write_text(
        "{ config, ... }: { services.grafana.settings.security.admin_password = "
        '"$__file{${config.sops.secrets."grafana/admin".path}}"; }\n'
    )


def key_missing_from_sops_file(repo: Repo) -> None:
    (repo.root / "hosts" / "observer" / "syncthing.nix").write_text(
        '{ config, ... }: { sops.secrets."syncthing/apikey" = { }; '
        'services.foo.keyFile = config.sops.secrets."syncthing/apikey".path; }\n'
    )


def host_cannot_read(repo: Repo) -> None:
    (repo.root / "hosts" / "laptop" / "default.nix").write_text(
        "{ config, ... }:\n{\n"
        "  imports = [ <sops-nix/modules/sops> ];\n"
        '  sops.secrets."alertmanager/pushover/token".sopsFile = ../../secrets/observer.yaml;\n'
        '  services.foo.tokenFile = config.sops.secrets."alertmanager/pushover/token".path;\n'
        "}\n"
    )


def host_without_key(repo: Repo) -> None:
    (repo.root / "hosts" / "newhost").mkdir()
    (repo.root / "hosts" / "newhost" / "default.nix").write_text(
        "{ config, ... }:\n{\n"
        "  imports = [ <sops-nix/modules/sops> ];\n"
        '  sops.secrets."alertmanager/pushover/token".sopsFile = ../../secrets/observer.yaml;\n'
        "}\n"
    )


def host_without_sops_nix(repo: Repo) -> None:
    """The host declares a secret but its module list lacks sops-nix: it cannot evaluate."""
    observer = repo.root / "hosts" / "observer" / "default.nix"
    observer.write_text(
        observer.read_text().replace("  imports = [ <sops-nix/modules/sops> ];\n", "")
    )


def host_with_unreadable_modules(repo: Repo) -> None:
    """sops-nix could come through a module built from something discovery cannot follow:
    not claimed absent, but not passed either."""
    observer = repo.root / "hosts" / "observer" / "default.nix"
    text = observer.read_text().replace("<sops-nix/modules/sops>", "(extraModules.sops)")
    observer.write_text(text.replace("{ config, ... }:", "{ config, extraModules, ... }:"))


def decrypted_copy(repo: Repo) -> None:
    (repo.root / "secrets" / "observer.dec.yaml").write_text("alertmanager:\n  pushover: {}\n")


def decrypted_value_copied(repo: Repo) -> None:
    """A value of the sops file written out where no name says what it is: found as
    that value (check opens the file to verify it), not by a scanner rule."""
    token = fake.pushover_token("check")
    (repo.root / "docs").mkdir()
    (repo.root / "docs" / "phone.md").write_text(f"# Phone setup\n\n- {token} (phone app)\n")


def plaintext_in_rule_path(repo: Repo) -> None:
    (repo.root / "secrets" / "laptop.yaml").write_text("wifi: {}\n")


BREAKS: dict[str, tuple[Callable[[Repo], None], str, str]] = {
    # name: (break it, the point that must fail, a word of its fix)
    "plaintext-in-tree": (plaintext_in_tree, "plaintext-tree", "secretkit migrate"),
    "plaintext-in-history": (plaintext_in_history, "plaintext-history", "secretkit purge"),
    "tampered-sops-file": (tampered_sops_file, "sops-mac", "git checkout HEAD --"),
    "pending-updatekeys": (pending_updatekeys, "sops-recipients", "secretkit updatekeys"),
    "undeclared-reference": (
        undeclared_reference,
        "nix-secret-refs",
        'sops.secrets."grafana/admin"',
    ),
    "key-missing-from-sops-file": (key_missing_from_sops_file, "nix-secret-refs", "secretkit set"),
    # (observer's own file: joining its rule would give laptop every secret of observer)
    "host-cannot-read": (host_cannot_read, "host-readable", "give laptop its own copy"),
    "host-without-key": (host_without_key, "host-readable", "secretkit hosts add newhost"),
    "host-without-sops-nix": (
        host_without_sops_nix,
        "sops-nix-module",
        'add "${builtins.fetchTarball "https://github.com/Mic92/sops-nix/archive/master.tar.gz"}'
        '/modules/sops" to the imports of hosts/observer/default.nix',
    ),
    "host-with-unreadable-modules": (
        host_with_unreadable_modules,
        "sops-nix-module",
        "where secretkit can see it",
    ),
    "decrypted-copy": (decrypted_copy, "decrypted-copy", "delete it"),
    "decrypted-value-copied": (decrypted_value_copied, "decrypted-copy", "take the value out"),
    "plaintext-in-rule-path": (plaintext_in_rule_path, "decrypted-copy", "encrypt"),
}


# A file that does not open cannot have its values searched for in the other files:
# decrypted-copy says "cannot verify" beside the point that is broken.
ALSO = {"tampered-sops-file": {"decrypted-copy"}}


@pytest.mark.parametrize("name", list(BREAKS))
def test_each_broken_point_fails_alone_with_its_fix(repo: Repo, name: str) -> None:
    breaker, point, fix_word = BREAKS[name]
    breaker(repo)
    failed, report = repo.failed_points()
    assert failed == {point} | ALSO.get(name, set())
    fixes = [c["fix"] for c in report["checks"] if not c["ok"]]
    assert any(fix_word in fix for fix in fixes), fixes
    text = repo.check()
    assert text.returncode == 1
    assert f"FAIL {point}:" in text.stdout
    assert "fix:" in text.stdout
    assert "NOT safe to publish" in text.stdout


def test_without_an_identity_the_mac_point_fails_and_says_why(repo: Repo) -> None:
    del repo.env["SOPS_AGE_KEY_FILE"]
    failed, report = repo.failed_points()
    # decrypted-copy searches the other files for the sops files' values: without a key
    # it cannot (it said "ok" to a stranger whose notes held a decrypted value)
    assert failed == {"sops-mac", "decrypted-copy"}
    mac, copy = [c for c in report["checks"] if not c["ok"]]
    assert "cannot verify" in str(mac["message"])
    assert "no identity" in str(mac["message"])
    assert "SOPS_AGE_KEY_FILE" in str(mac["fix"])
    assert str(copy["message"]).startswith("cannot verify: no identity here opens ")
    assert "SOPS_AGE_KEY_FILE" in str(copy["fix"])
    assert copy["paths"] == mac["paths"]


def test_no_secret_value_in_any_output(repo: Repo) -> None:
    plaintext_in_tree(repo)
    plaintext_in_history(repo)
    out = repo.check()
    both = out.stdout + out.stderr + repo.check("--format", "json").stdout
    for value in (fake.passphrase("chk"), fake.password("hist"), fake.pushover_token("check")):
        assert value not in both
        assert value[:8] not in both


def test_json_output_shape(repo: Repo) -> None:
    decrypted_copy(repo)
    _, report = repo.failed_points()
    assert set(report) == {"version", "ok", "checks", "groups"}
    for entry in report["checks"]:  # type: ignore[union-attr]
        assert set(entry) == {"id", "ok", "message", "fix", "paths", "group", "warning"}
        assert isinstance(entry["paths"], list)
    (bad,) = [c for c in report["checks"] if not c["ok"]]  # type: ignore[union-attr]
    assert bad["paths"] == ["secrets/observer.dec.yaml"]


def test_outside_a_repository_is_a_user_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "secretkit", "check"],
        cwd=plain,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert proc.returncode == 3
    assert "not inside a git repository" in proc.stderr


def test_a_malformed_sops_yaml_is_a_failed_point_not_a_crash(repo: Repo) -> None:
    (repo.root / ".sops.yaml").write_text("creation_rules: [\n")
    failed, report = repo.failed_points()
    assert "sops-recipients" in failed
    messages = [c["message"] for c in report["checks"] if not c["ok"]]
    assert any("could not run" in str(m) for m in messages)
    text = repo.check()
    assert "Traceback" not in text.stderr


def test_a_module_no_host_imports_is_named_as_not_checked_for_sops_nix(repo: Repo) -> None:
    (repo.root / "modules").mkdir()
    (repo.root / "modules" / "spare.nix").write_text(
        '{ config, ... }:\n{\n  sops.secrets."spare".sopsFile = ../secrets/observer.yaml;\n}\n'
    )
    failed, report = repo.failed_points()
    assert "sops-nix-module" not in failed
    (point,) = [c for c in report["checks"] if c["id"] == "sops-nix-module"]
    assert point["message"] == (
        "1 host(s) using sops-nix, each imports its NixOS module "
        "(1 file(s) using it that no host imports: modules/spare.nix)"
    )
    assert point["paths"] == ["modules/spare.nix"]


def test_a_file_no_known_host_imports_beside_an_unread_host_set_is_unverified(
    tmp_git_repo: Path,
) -> None:
    """kclejeune/system: NixOS hosts found, `darwinConfigurations = lib.mergeAttrsList
    […]` not read.  Five files using sops-nix that no known host imports were "ok":
    a host of the unread set may import them."""
    (tmp_git_repo / "flake.nix").write_text(
        "{\n  outputs = { nixpkgs, lib, ... }: {\n"
        "    nixosConfigurations.a = nixpkgs.lib.nixosSystem { modules = [ ./a.nix ]; };\n"
        "    darwinConfigurations = lib.mergeAttrsList [ (import ./darwin.nix) ];\n  };\n}\n"
    )
    (tmp_git_repo / "a.nix").write_text('{ ... }: { networking.hostName = "a"; }\n')
    (tmp_git_repo / "darwin.nix").write_text("{ }\n")
    (tmp_git_repo / "ntfy.nix").write_text(
        '{ config, ... }: { sops.secrets.ntfy = { }; services.x.file = "/run/secrets/ntfy"; }\n'
    )
    commit_all(tmp_git_repo, "a host set discovery cannot read")
    proc = check_json(tmp_git_repo)
    (point,) = [c for c in json.loads(proc.stdout)["checks"] if c["id"] == "sops-nix-module"]
    assert not point["ok"]
    assert point["message"].startswith("cannot verify: 1 file(s) use sops-nix (ntfy.nix)")
    assert "darwinConfigurations is built from" in point["message"]


def test_sops_nix_users_cannot_be_verified_when_no_host_was_found(tmp_git_repo: Path) -> None:
    """A module uses sops-nix and discovery found no host at all (a layout it cannot
    follow, KiruyaMomochi/nix's haumea loader): "no host uses sops-nix" would be
    said after reading nothing, so the point fails as "cannot verify"."""
    (tmp_git_repo / "flake.nix").write_text(
        "{\n  outputs = inputs: builtins.foldl' (a: b: a // b) { } (map (f: import "
        '(./parts + "/${f}") inputs) (builtins.attrNames (builtins.readDir ./parts)));\n}\n'
    )
    (tmp_git_repo / "parts").mkdir()
    (tmp_git_repo / "parts" / "hosts.nix").write_text("inputs: { }\n")
    (tmp_git_repo / "modules").mkdir()
    (tmp_git_repo / "modules" / "sops.nix").write_text(
        '{ ... }:\n{\n  sops.secrets."x".sopsFile = ../secrets/box.yaml;\n}\n'
    )
    commit_all(tmp_git_repo, "a layout discovery cannot follow")
    proc = check_json(tmp_git_repo)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    (point,) = [c for c in report["checks"] if c["id"] == "sops-nix-module"]
    assert not point["ok"]
    assert point["message"].startswith(
        "cannot verify: 1 file(s) use sops-nix (modules/sops.nix) but secretkit found "
        "no host configuration importing them: it could not follow flake.nix: "
    )


def test_a_host_of_a_hosts_directory_beside_an_unread_flake_cannot_be_verified(
    tmp_git_repo: Path,
) -> None:
    """nix-community/infra: lite-config builds the hosts of hosts/<name>/ and hands them
    sops-nix's module; discovery found the hosts by their directory only.  check said
    the host "does not import its NixOS module" and its fix was an unpinned
    fetchTarball, which a flake's pure evaluation refuses (and a second sops-nix)."""
    (tmp_git_repo / "flake.nix").write_text(
        '{\n  inputs.lite-config.url = "github:ym/lite-config";\n'
        "  outputs = inputs: inputs.lite-config.lib.mkFlake { inherit inputs; };\n}\n"
    )
    (tmp_git_repo / "hosts" / "web").mkdir(parents=True)
    (tmp_git_repo / "hosts" / "web" / "default.nix").write_text(
        '{ config, ... }:\n{\n  networking.hostName = "web";\n  sops.secrets.token = { };\n}\n'
    )
    commit_all(tmp_git_repo, "hosts built by a flake library")
    proc = check_json(tmp_git_repo)
    report = json.loads(proc.stdout)
    (point,) = [c for c in report["checks"] if c["id"] == "sops-nix-module"]
    assert not point["ok"]
    assert point["message"].startswith("cannot verify: host web uses sops-nix")
    assert "fetchTarball" not in point["fix"]
    assert point["fix"].startswith("import inputs.sops-nix.nixosModules.sops in the imports of")


def test_defaults_and_needed_for_users_set_where_discovery_cannot_place_them(
    tmp_git_repo: Path,
) -> None:
    """TUM-DSE/doctor-cluster-config: a flake-parts file sets sops.defaultSopsFile =
    ./hosts/${hostName}.yml and root-password-hash.neededForUsers in a list of modules
    discovery could not read.  check took the one literal default in the repository
    (the install ISO's) for every module ("needs key … in pkgs/iso/secrets.yml", fix:
    `secretkit set` into that file) and said the root password is created too late."""
    (tmp_git_repo / "flake.nix").write_text(
        "{\n  outputs = inputs:\n    let commonModules = [ {\n"
        '      sops.defaultSopsFile = ./hosts + "/${inputs.hostName}.yml";\n'
        "      sops.secrets.root-pw.neededForUsers = true;\n    } ];\n"
        "    in inputs.parts.lib.mkFlake { modules = commonModules; };\n}\n"
    )
    (tmp_git_repo / "pkgs" / "iso").mkdir(parents=True)
    (tmp_git_repo / "pkgs" / "iso" / "base.nix").write_text(
        "{ ... }: { sops.defaultSopsFile = ./secrets.yml; }\n"
    )
    (tmp_git_repo / "modules").mkdir()
    (tmp_git_repo / "modules" / "bot.nix").write_text(
        "{ config, ... }: {\n  sops.secrets.token = { };\n  sops.secrets.root-pw = { };\n"
        "  services.bot.tokenFile = config.sops.secrets.token.path;\n"
        "  users.users.root.hashedPasswordFile = config.sops.secrets.root-pw.path;\n}\n"
    )
    commit_all(tmp_git_repo, "a flake discovery cannot read")
    proc = check_json(tmp_git_repo)
    refs = [c for c in json.loads(proc.stdout)["checks"] if c["id"] == "nix-secret-refs"]
    assert refs and all(not c["ok"] for c in refs)
    assert all(c["message"].startswith("cannot verify: ") for c in refs), refs
    assert not any("pkgs/iso/secrets.yml" in c["message"] + c["fix"] for c in refs)
    (late,) = [c for c in refs if "neededForUsers" in c["message"]]
    assert "neededForUsers is set for it only in flake.nix" in late["message"]


def test_a_host_whose_modules_were_not_read_leaves_sops_users_unverified(
    tmp_git_repo: Path,
) -> None:
    """mitchellh/nixos-config (a stranger's run): three hosts built by a helper secretkit
    cannot follow, one it reads.  migrate wrote sops.secrets into a file the unread hosts
    import too, and check said "each imports its NixOS module", then "safe to publish"."""
    (tmp_git_repo / "flake.nix").write_text(
        "{\n  outputs = { nixpkgs, sops-nix, helpers, ... }: {\n"
        "    nixosConfigurations.a = nixpkgs.lib.nixosSystem {\n"
        "      modules = [ ./a.nix sops-nix.nixosModules.sops ];\n    };\n"
        '    nixosConfigurations.b = helpers.lib.mkSystem "b";\n  };\n}\n'
    )
    (tmp_git_repo / "a.nix").write_text(
        '{ ... }: { imports = [ ./shared.nix ]; networking.hostName = "a"; }\n'
    )
    (tmp_git_repo / "shared.nix").write_text(
        "{ config, ... }: { sops.secrets.x.sopsFile = ./secrets/a.yaml; }\n"
    )
    commit_all(tmp_git_repo, "a host built by a helper")
    proc = check_json(tmp_git_repo)
    checks = json.loads(proc.stdout)["checks"]
    for point in ("sops-nix-module", "host-readable", "nix-secret-refs"):
        unread = [c for c in checks if c["id"] == point and "host(s) b use" in c["message"]]
        assert len(unread) == 1 and not unread[0]["ok"], point
        assert unread[0]["message"].startswith("cannot verify: secretkit could not read")
    assert not any(c["ok"] and c["id"] == "sops-nix-module" for c in checks)


def test_sops_nix_users_cannot_be_verified_when_a_hosts_import_was_not_followed(
    repo: Repo,
) -> None:
    """Hosts found, but one's imports could not be followed (dc-bond/nixos-configs'
    relativeToRoot helper): a file using sops-nix may be imported there, so "ok"
    would be said of what was not read.  A file no host imports, with every import
    followed, still passes (named)."""
    (repo.root / "modules").mkdir()
    (repo.root / "modules" / "spare.nix").write_text(
        '{ config, ... }:\n{\n  sops.secrets."spare".sopsFile = ../secrets/observer.yaml;\n}\n'
    )
    host = repo.root / "hosts" / "laptop" / "default.nix"
    host.write_text(
        host.read_text().replace("{\n", '{\n  imports = [ (rootPath "modules") ];\n', 1)
    )
    failed, report = repo.failed_points()
    assert "sops-nix-module" in failed
    (point,) = [c for c in report["checks"] if c["id"] == "sops-nix-module" and not c["ok"]]
    assert point["message"].startswith(
        "cannot verify: 1 file(s) use sops-nix (modules/spare.nix) but secretkit found no "
        "host importing them: it could not follow hosts/laptop/default.nix: "
    )
    assert "or delete those files if nothing uses them (no host, and no" in point["fix"]


def test_plaintext_committed_into_a_sops_file_is_fixed_by_its_last_good_version(
    repo: Repo,
) -> None:
    """HEAD holds the tampered file: `git checkout HEAD --` changed nothing, and moving
    its content out ended in `git rm` of the file Nix reads.  Both points name the last
    version that verifies; the command, run as printed, makes both pass."""
    path = repo.root / "secrets" / "observer.yaml"
    good = path.read_text()
    path.write_text(f"extra: {fake.github_token('in-sops')}\n" + good)
    commit_all(repo.root, "tamper")
    _, report = repo.failed_points()
    fixes = {c["id"]: c["fix"] for c in report["checks"] if not c["ok"]}
    assert set(fixes) >= {"plaintext-tree", "sops-mac"}, fixes
    for fix in (fixes["plaintext-tree"], fixes["sops-mac"]):
        assert "git rm" not in fix and "git checkout HEAD" not in fix, fix
    command = fixes["sops-mac"].split("(", 1)[1].split(")", 1)[0]
    assert command.startswith("git checkout ") and command.endswith(" -- secrets/observer.yaml")
    assert command in fixes["plaintext-tree"]
    subprocess.run(command, shell=True, cwd=repo.root, check=True)
    assert path.read_text() == good
    failed, _ = repo.failed_points()
    assert failed == {"plaintext-history"}  # the commit that added it: purge's part


@pytest.mark.parametrize("form", ["gzip", "utf-16"])
def test_a_decrypted_value_in_a_compressed_or_utf16_file_is_a_copy(repo: Repo, form: str) -> None:
    """The scanner reads gzip and UTF-16; the search for copied values read raw bytes."""
    import gzip

    text = f"v {fake.pushover_token('check')}\n"
    data = gzip.compress(text.encode()) if form == "gzip" else text.encode("utf-16")
    (repo.root / "docs").mkdir()
    (repo.root / "docs" / "p.txt.gz").write_bytes(data)
    failed, report = repo.failed_points()
    assert failed == {"decrypted-copy"}
    assert [c["paths"] for c in report["checks"] if not c["ok"]] == [["docs/p.txt.gz"]]


def test_a_decrypted_value_committed_once_fails_until_it_is_rotated(repo: Repo) -> None:
    """Committed, then deleted: the value is published with the history (check said
    safe to publish, and purge did not know the value); rotating it, as the fix says,
    is the way out."""
    token = fake.pushover_token("check")
    (repo.root / "docs").mkdir()
    (repo.root / "docs" / "phone.md").write_text(f"# Phone\n\n- {token}\n")
    commit_all(repo.root, "notes")
    (repo.root / "docs" / "phone.md").unlink()
    commit_all(repo.root, "oops")
    failed, report = repo.failed_points()
    assert failed == {"decrypted-copy"}
    (fix,) = [c["fix"] for c in report["checks"] if not c["ok"]]
    assert "secretkit rotate value alertmanager/pushover/token" in fix
    rotated = subprocess.run(
        [sys.executable, "-m", "secretkit", "rotate", "value", "alertmanager/pushover/token",
         "--from-stdin"],
        cwd=repo.root,
        input=fake.pushover_token("rotated") + "\n",
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT), **repo.env),
    )  # fmt: skip
    assert rotated.returncode == 0, rotated.stderr
    commit_all(repo.root, "rotate")
    assert repo.failed_points()[0] == set()


def test_a_copy_in_a_file_still_in_the_tree_is_never_taken_out_whole(repo: Repo) -> None:
    """The value committed once in a file that is still there: the fix rotated it and
    offered `git filter-repo --invert-paths --path=<that file>`, which deletes the live
    file from every commit, HEAD too.  Only a file gone from the tree is offered."""
    token = fake.pushover_token("check")
    notes = repo.root / "docs" / "phone.md"
    notes.parent.mkdir()
    notes.write_text(f"# Phone\n\n- {token}\n")
    commit_all(repo.root, "notes")
    notes.write_text("# Phone\n\n- (in the sops file)\n")
    commit_all(repo.root, "keep the notes, not the token")
    failed, report = repo.failed_points()
    assert failed == {"decrypted-copy"}
    (fix,) = [c["fix"] for c in report["checks"] if not c["ok"]]
    assert "secretkit rotate value alertmanager/pushover/token" in fix
    assert "invert-paths" not in fix
    notes.unlink()
    commit_all(repo.root, "no notes")
    failed, report = repo.failed_points()
    (fix,) = [c["fix"] for c in report["checks"] if not c["ok"]]
    assert "--invert-paths --path=docs/phone.md" in fix


def test_a_stored_value_inside_a_committed_finding_is_that_findings(repo: Repo) -> None:
    """`user:<token>` committed (as `github.com=<token>` in access-tokens), migrated
    to a sops key holding the token alone: plaintext-history reports the committed
    string and purge takes it out; decrypted-copy reported the token again, with a fix
    that deleted the live module from every commit."""
    token = fake.pushover_token("access")  # (alone in prose, no scan finds it)
    values = {
        "alertmanager": {"pushover": {"token": fake.pushover_token("check")}},
        "relay": {"password": token},
    }
    module = repo.root / "hosts" / "observer" / "relay.nix"
    module.write_text(f'{{ ... }}: {{ services.foo.settings.password = "relay:{token}"; }}\n')
    commit_all(repo.root, "token")
    (repo.root / "secrets" / "observer.yaml").write_bytes(
        encrypt_for(repo.root, "secrets/observer.yaml", values)
    )
    module.write_text("{ ... }: { services.foo.enable = true; }\n")
    commit_all(repo.root, "into sops")
    failed, report = repo.failed_points()
    assert failed == {"plaintext-history"}
    assert "invert-paths" not in json.dumps(report)
    # the same token elsewhere, outside the committed string, is a copy
    (repo.root / "phone.md").write_text(f"# Phone\n\n- {token}\n")
    commit_all(repo.root, "a copy")
    (repo.root / "phone.md").unlink()
    commit_all(repo.root, "gone")
    failed, report = repo.failed_points()
    assert failed == {"plaintext-history", "decrypted-copy"}
    (copy,) = [c for c in report["checks"] if c["id"] == "decrypted-copy" and not c["ok"]]
    assert copy["paths"] == ["phone.md"]


def test_a_damaged_key_block_for_a_key_here_is_restored_not_asked_for(repo: Repo) -> None:
    """One character changed in the admin's own key block: sops-mac said no identity
    here opens the file and told the admin to set SOPS_AGE_KEY_FILE, which was set to
    that very key.  It now says the block is damaged, and restoring as printed works."""
    path = repo.root / "secrets" / "observer.yaml"
    good = path.read_text()
    # (each age entry: its enc block, then its recipient line)
    at = good.rindex("-----BEGIN AGE ENCRYPTED FILE-----", 0, good.index(repo.admin.public))
    line_start = good.index("\n", at) + 1
    spot = line_start + 40
    flipped = "A" if good[spot] != "A" else "B"
    path.write_text(good[:spot] + flipped + good[spot + 1 :])
    commit_all(repo.root, "an edit by hand")
    failed, report = repo.failed_points()
    assert failed == {"sops-mac", "decrypted-copy"}
    (copy,) = [c for c in report["checks"] if c["id"] == "decrypted-copy"]
    assert str(copy["message"]).startswith("cannot verify: sops-mac could not open ")
    (result,) = [c for c in report["checks"] if not c["ok"] and c["id"] == "sops-mac"]
    assert result["message"] == (
        f"secrets/observer.yaml does not open: the key block of secrets/observer.yaml for "
        f"{repo.admin.public}, a key here, does not open with that key: it was damaged or "
        "edited by hand"
    )
    assert "SOPS_AGE_KEY_FILE" not in result["fix"]
    command = re.search(r"\((git checkout \S+ -- secrets/observer.yaml)\)", result["fix"])
    assert command is not None, result["fix"]
    subprocess.run(shlex.split(command.group(1)), cwd=repo.root, check=True)
    assert path.read_text() == good
    assert repo.failed_points()[0] == set()


def test_a_sops_file_no_rule_matches_is_created_after_its_rule(repo: Repo) -> None:
    """sopsFile names a file that does not exist and no creation rule matches: the fix
    said `secretkit set secrets/missing.yaml …`, which refuses such a file (exit 3).  It
    now says to give it a rule first; done that way, the file is made and the point
    passes."""
    module = repo.root / "hosts" / "observer" / "default.nix"
    module.write_text(
        module.read_text().replace(
            "}\n", "  sops.secrets.other.sopsFile = ../../secrets/missing.yaml;\n}\n"
        )
    )
    commit_all(repo.root, "a secret in a file not made yet")
    _failed, report = repo.failed_points()
    (result,) = [c for c in report["checks"] if c["id"] == "nix-secret-refs" and not c["ok"]]
    assert result["fix"].startswith(
        "no .sops.yaml creation rule matches secrets/missing.yaml: point sopsFile at a host's file"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), **repo.env)

    def secretkit(*args: str, stdin: str | None = None) -> int:
        return subprocess.run(
            [sys.executable, "-m", "secretkit", *args],
            cwd=repo.root, input=stdin, capture_output=True, text=True, env=env,
        ).returncode  # fmt: skip

    assert secretkit("set", "secrets/missing.yaml", '["other"]', stdin="v") == 3
    assert secretkit("hosts", "add", "missing", "--age", age_key().public) == 0
    assert secretkit("set", "secrets/missing.yaml", '["other"]', stdin="value") == 0
    commit_all(repo.root, "its rule and the file")
    _failed, report = repo.failed_points()
    assert [c for c in report["checks"] if c["id"] == "nix-secret-refs" and not c["ok"]] == []


def test_values_a_crypt_rule_leaves_in_clear_are_no_decrypted_copies(repo: Repo) -> None:
    """A Kubernetes manifest encrypted with ``encrypted_regex: ^(data|stringData)$``
    keeps ``kind: ConfigMap`` in clear: another manifest of that kind is no copy of a
    secret (no fix could pass the gate then), while its encrypted value still is."""
    from secretkit.sops import document, operations

    rule = _alice_rule(
        repo, "^k8s/.*\\.yaml$", "k8s/app.yaml", "encrypted_regex: ^(data|stringData)$"
    )
    token = fake.pushover_token("k8s")
    manifest = {"kind": "ConfigMap", "metadata": {"name": "app"}, "data": {"TOKEN": token}}
    (repo.root / "k8s").mkdir()
    data = operations.encrypt_new(document.new_plain("yaml", manifest), rule)
    assert b"kind: ConfigMap" in data and token.encode() not in data
    (repo.root / "k8s" / "app.yaml").write_bytes(data)
    (repo.root / "deploy").mkdir()
    (repo.root / "deploy" / "other.yaml").write_text("kind: ConfigMap\nmetadata:\n  name: b\n")
    commit_all(repo.root, "a manifest with its data encrypted, and another manifest")
    failed, report = repo.failed_points()
    assert failed == set(), [c["message"] for c in report["checks"] if not c["ok"]]

    (repo.root / "notes.txt").write_text(f"the app's {token[:4]} is {token}\n")
    failed, report = repo.failed_points()
    assert "decrypted-copy" in failed
    # the way to read it in Nix: a file's path, or the value itself through a template
    (fix,) = [c["fix"] for c in report["checks"] if c["id"] == "decrypted-copy"]
    assert ".path for an option that reads a file, or config.sops.placeholder." in str(fix)
    messages = [c["message"] for c in report["checks"] if c["id"] == "decrypted-copy"]
    assert messages == [
        "notes.txt (untracked, not ignored) holds the decrypted value of data/TOKEN of k8s/app.yaml"
    ]
    del repo.env["SOPS_AGE_KEY_FILE"]  # without a key the copy is not found: never "ok"
    failed, report = repo.failed_points()
    copies = [c for c in report["checks"] if c["id"] == "decrypted-copy"]
    assert [c["ok"] for c in copies] == [False]
    assert str(copies[0]["message"]).startswith("cannot verify: no identity here opens ")
    assert "k8s/app.yaml" in copies[0]["paths"]


def test_a_host_whose_ssh_host_key_is_never_made_is_warned_about(repo: Repo) -> None:
    """sops-nix opens the host's secrets with its ssh host key, which NixOS makes only
    when services.openssh is enabled: migrate said so, check said nothing, and a host
    given its secret by hand never decrypted it.  A warning (a key installed by other
    means does exist), with the line that makes the key."""
    _failed, report = repo.failed_points()
    warned = [c for c in report["checks"] if c["id"] == "host-readable" and c.get("warning")]
    assert [c["message"] for c in warned] == [
        "warning: host observer: sops.age.sshKeyPaths uses /etc/ssh/ssh_host_ed25519_key, "
        "but services.openssh is not set to true by any module as a plain value (if an "
        "option of yours sets it, this does not apply), so that key is never generated and "
        "no secret decrypts on boot"
    ]
    assert warned[0]["fix"].startswith("add services.openssh.enable = true; to observer")
    nix = repo.root / "hosts" / "observer" / "default.nix"
    plain = nix.read_text()
    nix.write_text(plain.replace("{\n  imports", "{\n  services.openssh.enable = true;\n  imports"))
    commit_all(repo.root, "sshd")
    _failed, report = repo.failed_points()
    assert not [c for c in report["checks"] if c["id"] == "host-readable" and c.get("warning")]

    # set by a module of the usual shape, under its own enable option: secretkit cannot
    # evaluate the condition, and warned on every host every run (a stranger's modules)
    (repo.root / "hosts" / "observer" / "ssh.nix").write_text(
        '{ config, lib, ... }:\n{\n  options.my.ssh.enable = lib.mkEnableOption "ssh";\n'
        "  config = lib.mkIf config.my.ssh.enable {\n    services.openssh.enable = true;\n"
        "  };\n}\n"
    )
    nix.write_text(plain.replace("imports = [", "imports = [ ./ssh.nix"))
    commit_all(repo.root, "sshd behind an option")
    _failed, report = repo.failed_points()
    assert not [c for c in report["checks"] if c["id"] == "host-readable" and c.get("warning")]


def test_host_keys_without_the_key_sops_nix_reads_cannot_be_verified(repo: Repo) -> None:
    """helper-118 (repro 10): services.openssh.hostKeys listing only an RSA key was a
    warning and "safe to publish", though NixOS then never makes the ed25519 key
    sops-nix reads.  A key installed by other means may exist: "cannot verify", with
    the fix that holds either way (sshd keeps a key that is already there)."""
    nix = repo.root / "hosts" / "observer" / "default.nix"
    plain = nix.read_text()
    rsa = '{ type = "rsa"; bits = 4096; path = "/persist/ssh/ssh_host_rsa_key"; }'
    nix.write_text(
        plain.replace(
            "{\n  imports",
            f"{{\n  services.openssh.enable = true;\n  services.openssh.hostKeys = [ {rsa} ];\n"
            "  imports",
        )
    )
    commit_all(repo.root, "an rsa host key only")
    failed, report = repo.failed_points()
    assert "host-readable" in failed
    (problem,) = [c for c in report["checks"] if c["id"] == "host-readable" and not c["ok"]]
    assert problem["message"].startswith(
        "cannot verify: host observer: services.openssh.hostKeys lists no ed25519 key"
    )
    assert problem["fix"] == (
        'add { path = "/etc/ssh/ssh_host_ed25519_key"; type = "ed25519"; } to '
        "services.openssh.hostKeys of host observer (sshd keeps a key that is already there)"
    )
    entry = '{ path = "/etc/ssh/ssh_host_ed25519_key"; type = "ed25519"; }'
    nix.write_text(nix.read_text().replace(f"[ {rsa} ]", f"[ {rsa} {entry} ]"))  # (the fix)
    commit_all(repo.root, "as the fix says")
    failed, report = repo.failed_points()
    assert "host-readable" not in failed
    assert not [c for c in report["checks"] if c["id"] == "host-readable" and c.get("warning")]


def _encrypt_app_json_in_place(repo: Repo) -> None:
    """What check's fix for a secret in config/app.json says: a creation rule for its
    path, then `secretkit encrypt -i config/app.json`."""
    sops_yaml = repo.root / ".sops.yaml"
    sops_yaml.write_text(
        sops_yaml.read_text().replace(
            "creation_rules:\n",
            "creation_rules:\n"
            "  - path_regex: ^config/app\\.json$\n"
            "    key_groups:\n"
            "      - age:\n"
            "          - *admin_alice\n",
        )
    )
    proc = subprocess.run(
        [sys.executable, "-m", "secretkit", "encrypt", "-i", "config/app.json"],
        cwd=repo.root,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT), **repo.env),
    )
    assert proc.returncode == 0, proc.stderr


def test_a_damaged_sops_file_is_restored_as_the_fix_says_never_encrypted_again(
    repo: Repo,
) -> None:
    """A sops file cut short was called "not a sops file" and the fix said to encrypt
    it in place: that wrapped its ciphertext as values.  It is now called damaged,
    encrypt refuses it, and the printed restore brings back its last good version."""
    path = repo.root / "secrets" / "laptop.yaml"
    path.write_bytes(encrypt_for(repo.root, "secrets/laptop.yaml", {"a": "x" * 20, "b": "y" * 20}))
    commit_all(repo.root, "laptop secrets")
    good = path.read_bytes()
    cut = good[: good.index(b"\nsops:") + 1]  # (its metadata lost)
    path.write_bytes(cut)
    commit_all(repo.root, "oops")
    _failed, report = repo.failed_points()
    (damaged,) = [c for c in report["checks"] if c["id"] == "decrypted-copy" and not c["ok"]]
    assert damaged["message"].startswith("secrets/laptop.yaml (committed) is a damaged sops file")
    assert "encrypt" not in damaged["fix"]
    env = dict(os.environ, PYTHONPATH=str(ROOT), **repo.env)
    refused = subprocess.run(
        [sys.executable, "-m", "secretkit", "encrypt", "-i", "secrets/laptop.yaml"],
        cwd=repo.root,
        capture_output=True,
        text=True,
        env=env,
    )
    assert refused.returncode == 3 and "damaged sops file" in refused.stderr
    assert path.read_bytes() == cut
    command = re.search(r"restore it: (git restore [^(]*?) \(", damaged["fix"])
    assert command is not None, damaged["fix"]
    subprocess.run(shlex.split(command.group(1)), cwd=repo.root, check=True)
    assert path.read_bytes() == good
    _failed, report = repo.failed_points()
    assert not [c for c in report["checks"] if c["id"] == "decrypted-copy" and not c["ok"]]


def test_a_committed_json_file_encrypted_in_place_leaves_its_settings_alone(
    repo: Repo,
) -> None:
    """config.json committed with a token and a setting, then encrypted in place as the
    fix says: the token is plaintext-history's (purge, rotate); the setting, now an
    ENC[] value too, is not a decrypted copy (its old version is the file itself), and
    no fix takes the path out of history (that would delete the encrypted file).  A
    generated value there still counts: it may be a secret no name announced."""
    token = fake.github_token("app-committed")
    generated = fake.password("app-generated")
    app = repo.root / "config" / "app.json"
    app.parent.mkdir()
    app.write_text(f'{{"service": "uploader", "token": "{token}", "session": "{generated}"}}\n')
    commit_all(repo.root, "app config")
    _encrypt_app_json_in_place(repo)
    commit_all(repo.root, "encrypt it")
    _failed, report = repo.failed_points()
    copies = [c for c in report["checks"] if c["id"] == "decrypted-copy" and not c["ok"]]
    assert [c["message"].split(":")[0] for c in copies] == [
        "the decrypted value of session of config/app.json was committed"
    ]
    assert "invert-paths" not in copies[0]["fix"]
    assert "uploader" not in json.dumps(report)
    # the fix, done as printed: the new value is not in the history
    assert "secretkit rotate value session --from-stdin" in copies[0]["fix"]
    rotated = subprocess.run(
        [sys.executable, "-m", "secretkit", "rotate", "value", "session", "--from-stdin"],
        cwd=repo.root,
        input=fake.password("app-rotated") + "\n",
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT), **repo.env),
    )
    assert rotated.returncode == 0, rotated.stderr
    commit_all(repo.root, "rotate")
    _failed, report = repo.failed_points()
    assert not [c for c in report["checks"] if c["id"] == "decrypted-copy" and not c["ok"]]


def test_a_secret_in_a_json_file_is_fixed_by_encrypting_the_file_as_the_fix_says(
    repo: Repo,
) -> None:
    """The fix for a value in a file no host owns said to store it in
    secrets/<host>.yaml and "reference that", which nothing can do for an app's JSON;
    it now names encrypting the file in place, and doing so passes the point."""
    token = fake.github_token("app")
    (repo.root / "config").mkdir()
    (repo.root / "config" / "app.json").write_text(f'{{"name": "app", "token": "{token}"}}\n')
    failed, report = repo.failed_points()
    assert failed == {"plaintext-tree"}
    (fix,) = [c["fix"] for c in report["checks"] if not c["ok"]]
    assert (
        "add a .sops.yaml creation rule for its path, then `secretkit encrypt -i config/app.json`"
        in fix
    )
    _encrypt_app_json_in_place(repo)
    assert token not in (repo.root / "config" / "app.json").read_text()
    failed, report = repo.failed_points()
    assert failed == set(), [c["message"] for c in report["checks"] if not c["ok"]]


def test_settings_of_a_whole_encrypted_dotenv_are_no_decrypted_copies(repo: Repo) -> None:
    """``encrypt -i`` of a service's .env encrypts its settings too: the time zone and
    the database user's name are the same settings in a Nix file, not copies of a secret
    (a stranger followed the .env fix and check then failed on them, with no way out);
    the password's copy still fails."""
    from secretkit.sops import document, operations

    rule = _alice_rule(repo, "^docker/.*\\.env$", "docker/paperless.env")
    password = fake.password("paperless-db")
    env = {
        "PAPERLESS_TIME_ZONE": "Europe/Berlin",
        "PAPERLESS_DBUSER": "paperless",
        "PAPERLESS_URL": "https://paperless.home.arpa",
        "PAPERLESS_DBPASS": password,
    }
    (repo.root / "docker").mkdir()
    data = operations.encrypt_new(document.new_plain("dotenv", env), rule)
    assert password.encode() not in data and b"Europe/Berlin" not in data
    (repo.root / "docker" / "paperless.env").write_bytes(data)
    (repo.root / "hosts" / "tz.nix").write_text(
        '{ time.timeZone = "Europe/Berlin"; users.users.paperless.isSystemUser = true;\n'
        '  services.paperless.settings.PAPERLESS_URL = "https://paperless.home.arpa"; }\n'
    )
    commit_all(repo.root, "paperless's env encrypted whole, its settings in Nix")
    failed, report = repo.failed_points()
    assert "decrypted-copy" not in failed, [
        c["message"] for c in report["checks"] if c["id"] == "decrypted-copy"
    ]

    (repo.root / "notes.txt").write_text(f"db: {password}\n")
    failed, report = repo.failed_points()
    messages = [c["message"] for c in report["checks"] if c["id"] == "decrypted-copy"]
    assert messages == [
        "notes.txt (untracked, not ignored) holds the decrypted value of PAPERLESS_DBPASS of "
        "docker/paperless.env"
    ]


def _alice_rule(repo: Repo, regex: str, path: str, extra: str = "") -> CreationRule:
    """A creation rule for ``regex`` (admin alice's key) put first in .sops.yaml, as the
    rule ``path`` gets."""
    from secretkit.sops.config import find_config

    sops_yaml = repo.root / ".sops.yaml"
    more = f"    {extra}\n" if extra else ""
    sops_yaml.write_text(
        sops_yaml.read_text().replace(
            "creation_rules:\n",
            f"creation_rules:\n  - path_regex: {regex}\n{more}"
            "    key_groups:\n      - age:\n          - *admin_alice\n",
        )
    )
    config = find_config(repo.root)
    assert config is not None
    rule = config.rule_for(repo.root / path)
    assert rule is not None
    return rule


def test_a_users_password_file_sops_nix_writes_too_late_fails(repo: Repo) -> None:
    """A stranger's converted hashedPasswordFile lacked neededForUsers and check said
    "safe to publish": sops-nix writes such a secret only after users are made, so the
    account is created without its password.  The fix, as printed, passes."""
    from secretkit.nix.catalogue.password_hash import sha512_crypt

    hashed = sha512_crypt(fake.password("ops-login"))
    data = {
        "alertmanager": {"pushover": {"token": fake.pushover_token("check")}},
        "users": {"ops": hashed},
    }
    (repo.root / "secrets" / "observer.yaml").write_bytes(
        encrypt_for(repo.root, "secrets/observer.yaml", data)
    )
    nix = repo.root / "hosts" / "observer" / "default.nix"
    nix.write_text(
        OBSERVER_NIX.rstrip().removesuffix("}")
        + '  sops.secrets."users/ops" = { };\n'
        + '  users.users.ops.hashedPasswordFile = config.sops.secrets."users/ops".path;\n}\n'
    )
    commit_all(repo.root, "a user's password from sops")
    failed, report = repo.failed_points()
    (late,) = [c for c in report["checks"] if c["id"] == "nix-secret-refs" and not c["ok"]]
    assert late["message"].startswith(
        "hosts/observer/default.nix:11: users.users.ops.hashedPasswordFile reads "
        'config.sops.secrets."users/ops".path, which sops-nix writes only after users are made'
    )
    assert late["fix"].startswith('add neededForUsers = true; to sops.secrets."users/ops"')
    nix.write_text(
        nix.read_text().replace('"users/ops" = { };', '"users/ops".neededForUsers = true;')
    )
    commit_all(repo.root, "as the fix says")
    failed, _ = repo.failed_points()
    assert failed == set()


def test_a_multi_line_or_binary_value_copied_out_is_a_decrypted_copy(repo: Repo) -> None:
    """A stranger's agenix import: `decrypt --extract '["wifi"]'` of an env file of two
    lines, and `decrypt` of a keytab encrypted whole, both committed: check said "ok
    decrypted-copy" and "safe to publish" (only one-line values were looked for)."""
    psk = fake.password("wifi-psk-multi") + fake.password("more")
    wifi = f"psk_home={psk}\npsk_guest=guestguest\n"
    values = {"alertmanager": {"pushover": {"token": fake.pushover_token("check")}}, "wifi": wifi}
    (repo.root / "secrets" / "observer.yaml").write_bytes(
        encrypt_for(repo.root, "secrets/observer.yaml", values)
    )
    sops_yaml = repo.root / ".sops.yaml"
    keytab = bytes(range(256)) * 4
    rules = sops_yaml.read_text().replace(
        "creation_rules:\n",
        "creation_rules:\n  - path_regex: ^secrets/keytab\\.bin$\n"
        f"    key_groups:\n      - age:\n          - {repo.admin.public}\n",
        1,
    )
    sops_yaml.write_text(rules)
    (repo.root / "secrets" / "keytab.bin").write_bytes(keytab)
    env = dict(os.environ, PYTHONPATH=str(ROOT), **repo.env)
    subprocess.run(
        [sys.executable, "-m", "secretkit", "encrypt", "-i", "secrets/keytab.bin"],
        cwd=repo.root, env=env, check=True, capture_output=True,
    )  # fmt: skip
    (repo.root / "wifi.env").write_text(wifi)
    (repo.root / "keytab.plain").write_bytes(keytab)
    (repo.root / "notes.txt").write_text(f"guest wifi at home: psk_home={psk}\n")
    commit_all(repo.root, "decrypted copies")
    failed, report = repo.failed_points()
    assert "decrypted-copy" in failed
    copies = [c["message"] for c in report["checks"] if c["id"] == "decrypted-copy"]
    for path in ("wifi.env", "keytab.plain", "notes.txt"):
        assert any(m.startswith(f"{path} (committed) holds the decrypted value") for m in copies)


def test_a_committed_age_identity_that_opens_a_sops_file_fails_host_readable(repo: Repo) -> None:
    """A stranger's repository held the host's age identity in an old commit
    ($temp/root/keys.txt): its public key was a recipient of today's secrets file, and
    check said "ok sops-recipients" with no word of it.  Whoever reads the history
    decrypts every value of that file."""
    keys = repo.root / "keys.txt"
    keys.write_text(f"# created: 2024-01-01\n{repo.observer.secret}\n")
    commit_all(repo.root, "oops")
    keys.unlink()
    commit_all(repo.root, "remove the key")
    _failed, report = repo.failed_points()
    leaked = [
        c
        for c in report["checks"]
        if c["id"] == "host-readable" and "its private half was committed" in str(c["message"])
    ]
    assert len(leaked) == 1, [c["message"] for c in report["checks"] if not c["ok"]]
    assert f"({repo.observer.public}) opens secrets/observer.yaml" in str(leaked[0]["message"])
    assert "&host_observer" in str(leaked[0]["message"])
    assert "secretkit rotate host observer" in str(leaked[0]["fix"])
    assert repo.observer.secret not in json.dumps(report)
