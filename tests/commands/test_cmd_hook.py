"""`secretkit hook` judging real commits, as a plain git hook and under the pre-commit
framework (`repo: local`, `language: system`: works with no network).

Following pre-commit's own tests, a file is staged in one version and left in another
in the work tree: the index decides.  Values are fake, built at run time.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, commit_all, git, need_tool
from tests.sops.keys_support import AgeKey, age_key
from tests.support import fake
from tests.support.fake import secretkit_bin

CLEAN_NIX = """\
{ config, ... }:
{
  services.borgbackup.jobs.home.encryption.passCommand =
    "cat ${config.sops.secrets.borg.path}";
}
"""

PRE_COMMIT_CONFIG = """\
repos:
  - repo: local
    hooks:
      - id: secretkit
        name: secretkit
        entry: secretkit hook --
        language: system
        pass_filenames: true
        require_serial: true
"""


def leaky_nix(seed: str = "hook") -> str:
    return (
        "{ config, ... }:\n{\n"
        f'  services.borgbackup.jobs.home.encryption.passphrase = "{fake.passphrase(seed)}";\n'
        "}\n"
    )


@dataclass
class HookRepo:
    root: Path
    mode: str
    env: dict[str, str]
    admin: AgeKey

    def commit(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "commit", "-m", "change", *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            env=dict(os.environ, **self.env),
        )

    def head(self) -> str:
        return git(self.root, "rev-parse", "HEAD").strip()

    def write(self, rel: str, text: str | bytes) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)

    def stage(self, *rels: str) -> None:
        git(self.root, "add", "--", *rels)

    def run_printed_fix(self, pattern: str, said: str = "") -> None:
        """Commit, which must be blocked (saying ``said``), and run the command the
        output gives where ``pattern``'s first group stands, exactly as printed."""
        proc = self.commit()
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0 and said in out, out
        command = re.search(pattern, out)
        assert command, out
        subprocess.run(command.group(1), shell=True, cwd=self.root, check=True)


def _encrypted(root: Path, rel: str, values: dict[str, object]) -> bytes:
    from secretkit.sops import document, operations
    from secretkit.sops.config import find_config

    config = find_config(root)
    assert config is not None
    rule = config.rule_for(root / rel)
    assert rule is not None
    return operations.encrypt_new(document.new_plain("yaml", values), rule)


@pytest.fixture(params=["plain-git", "pre-commit"])
def hook_repo(request: pytest.FixtureRequest, tmp_git_repo: Path, tmp_path: Path) -> HookRepo:
    from secretkit.keys import sops_yaml_edits

    mode = str(request.param)
    root = tmp_git_repo
    bin_dir = tmp_path / "bin"
    secretkit_bin(bin_dir)
    admin, host = age_key(), age_key()
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "SOPS_AGE_KEY_FILE": str(admin.write(tmp_path / "keys.txt")),
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache"),
    }
    sops_yaml_edits.init(root, admin.public, "alice")
    sops_yaml_edits.add_host(root, "observer", host.public)
    (root / "hosts" / "observer").mkdir(parents=True)
    (root / "hosts" / "observer" / "default.nix").write_text(CLEAN_NIX)
    (root / "secrets").mkdir()
    (root / "secrets" / "observer.yaml").write_bytes(
        _encrypted(root, "secrets/observer.yaml", {"borg": fake.passphrase("enc")})
    )
    if mode == "pre-commit":
        need_tool("pre-commit")
        (root / ".pre-commit-config.yaml").write_text(PRE_COMMIT_CONFIG)
        subprocess.run(
            ["pre-commit", "install"],
            cwd=root,
            check=True,
            capture_output=True,
            env=dict(os.environ, **env),
        )
    else:
        subprocess.run(
            [sys.executable, "-m", "secretkit", "hook", "install"],
            cwd=root,
            check=True,
            capture_output=True,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )
    commit_all(root, "base")
    return HookRepo(root, mode, env, admin)


def test_a_staged_secret_is_blocked_with_its_fix(hook_repo: HookRepo) -> None:
    before = hook_repo.head()
    hook_repo.write("hosts/observer/default.nix", leaky_nix())
    hook_repo.stage("hosts/observer/default.nix")
    proc = hook_repo.commit()
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "hosts/observer/default.nix:3:" in out
    assert "secretkit migrate" in out
    assert "# secretkit: allow" in out
    assert fake.passphrase("hook") not in out
    assert hook_repo.head() == before


def test_a_module_no_host_imports_is_not_sent_to_migrate(hook_repo: HookRepo) -> None:
    """migrate leaves a file no host imports alone: the hook's fix names the manual
    route, as check does (it said "run `secretkit migrate`", which then refused)."""
    hook_repo.write("modules/paperless.nix", leaky_nix("orphan"))
    hook_repo.stage("modules/paperless.nix")
    proc = hook_repo.commit()
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "cannot move this one (no host configuration imports this file)" in out
    assert "run `secretkit migrate`" not in out


def test_a_secret_only_in_the_work_tree_is_not_blocked(hook_repo: HookRepo) -> None:
    hook_repo.write("hosts/observer/extra.nix", '{ networking.hostName = "observer"; }\n')
    hook_repo.stage("hosts/observer/extra.nix")
    hook_repo.write("hosts/observer/default.nix", leaky_nix())  # changed, not staged
    before = hook_repo.head()
    proc = hook_repo.commit()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert hook_repo.head() != before
    assert (hook_repo.root / "hosts/observer/default.nix").read_text() == leaky_nix()


def test_a_partially_staged_file_is_judged_by_its_staged_part(hook_repo: HookRepo) -> None:
    path = "hosts/observer/default.nix"
    # staged: the secret; work tree: the clean version again
    hook_repo.write(path, leaky_nix())
    hook_repo.stage(path)
    hook_repo.write(path, CLEAN_NIX + "# edited\n")
    before = hook_repo.head()
    blocked = hook_repo.commit()
    assert blocked.returncode != 0
    assert hook_repo.head() == before
    # staged: clean; work tree: the secret
    hook_repo.write(path, CLEAN_NIX + "# edited\n")
    hook_repo.stage(path)
    hook_repo.write(path, leaky_nix())
    passed = hook_repo.commit()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert git(hook_repo.root, "show", f"HEAD:{path}") == CLEAN_NIX + "# edited\n"


def test_a_decrypted_secrets_file_is_blocked(hook_repo: HookRepo) -> None:
    before = hook_repo.head()
    hook_repo.write("secrets/observer.yaml", "borg: not-encrypted-any-more\n")
    hook_repo.stage("secrets/observer.yaml")
    proc = hook_repo.commit()
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "secrets/observer.yaml" in out
    assert "not encrypted" in out
    assert "secretkit encrypt" in out
    assert hook_repo.head() == before


def test_a_decrypted_secrets_file_gets_one_fix_not_an_allowlist_offer(
    hook_repo: HookRepo,
) -> None:
    hook_repo.write("secrets/observer.yaml", f"db:\n  password: {fake.password('dec')}\n")
    hook_repo.stage("secrets/observer.yaml")
    proc = hook_repo.commit()
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "secrets/observer.yaml:2:" in out  # the scanner saw the value too
    assert "this file must be encrypted" in out
    assert ".secretkit-allow" not in out
    assert "secretkit encrypt" in out


def test_a_tampered_sops_file_is_blocked(hook_repo: HookRepo) -> None:
    path = hook_repo.root / "secrets" / "observer.yaml"
    data = path.read_text()
    start = data.index("data:") + len("data:")
    path.write_text(data[:start] + ("B" if data[start] != "B" else "C") + data[start + 1 :])
    hook_repo.stage("secrets/observer.yaml")
    proc = hook_repo.commit()
    assert proc.returncode != 0
    assert "does not verify" in proc.stdout + proc.stderr


def test_a_clean_commit_passes(hook_repo: HookRepo) -> None:
    hook_repo.write("hosts/observer/default.nix", CLEAN_NIX + "# comment\n")
    hook_repo.write(
        "secrets/observer.yaml",
        _encrypted(hook_repo.root, "secrets/observer.yaml", {"borg": fake.passphrase("new")}),
    )
    hook_repo.stage("hosts/observer/default.nix", "secrets/observer.yaml")
    before = hook_repo.head()
    proc = hook_repo.commit()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert hook_repo.head() != before


def test_a_staged_deletion_passes(hook_repo: HookRepo) -> None:
    git(hook_repo.root, "rm", "-q", "secrets/observer.yaml")
    proc = hook_repo.commit()
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_commit_all_uses_the_temporary_index(hook_repo: HookRepo) -> None:
    hook_repo.write("hosts/observer/default.nix", leaky_nix())  # not staged
    before = hook_repo.head()
    proc = hook_repo.commit("-a")
    assert proc.returncode != 0
    assert hook_repo.head() == before
    only = hook_repo.commit("--", "hosts/observer/default.nix")
    assert only.returncode != 0
    assert hook_repo.head() == before


def test_without_an_identity_the_structure_is_checked_and_said(hook_repo: HookRepo) -> None:
    del hook_repo.env["SOPS_AGE_KEY_FILE"]
    hook_repo.write(
        "secrets/observer.yaml",
        _encrypted(hook_repo.root, "secrets/observer.yaml", {"borg": fake.passphrase("new2")}),
    )
    hook_repo.stage("secrets/observer.yaml")
    proc = hook_repo.commit()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    if hook_repo.mode == "plain-git":  # pre-commit shows hook output only on failure
        assert "cannot verify the MAC of secrets/observer.yaml" in proc.stderr


def test_hook_outside_a_repository_is_a_user_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "secretkit", "hook"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert proc.returncode == 3


def test_the_printed_fixes_unblock_a_false_positive(hook_repo: HookRepo) -> None:
    """In a JSON file (no comments there) the fix is the allowlist line."""
    path = "hosts/observer/app.json"
    hook_repo.write(path, '{ "password": "' + fake.password("allow") + '" }\n')
    hook_repo.stage(path)
    blocked = hook_repo.commit()
    assert blocked.returncode != 0
    out = blocked.stdout + blocked.stderr
    match = re.search(
        r"echo sk2:[0-9a-f]{32} >> \.secretkit-allow && git add \.secretkit-allow", out
    )
    assert match, out
    # written but not staged: the commit would not hold it, so it allows nothing
    hook_repo.write(".secretkit-allow", match.group(0).split()[1] + "\n")
    assert hook_repo.commit().returncode != 0
    (hook_repo.root / ".secretkit-allow").unlink()
    # the allowlist route, exactly as printed
    subprocess.run(match.group(0), shell=True, cwd=hook_repo.root, check=True)
    passed = hook_repo.commit()
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_the_allow_comment_unblocks_a_line(hook_repo: HookRepo) -> None:
    """In Nix the fix is the comment, followed as printed."""
    path = "hosts/observer/default.nix"
    hook_repo.write(path, leaky_nix("comment"))
    hook_repo.stage(path)
    blocked = hook_repo.commit()
    out = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0
    assert "append `# secretkit: allow` to the line" in out and "sk2:" not in out, out
    text = leaky_nix("comment").replace('";\n}', '"; # secretkit: allow\n}')
    assert "# secretkit: allow" in text
    hook_repo.write(path, text)
    hook_repo.stage(path)
    proc = hook_repo.commit()
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_first_commit_of_a_repository_is_judged(tmp_git_repo: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    secretkit_bin(bin_dir)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    subprocess.run(
        [sys.executable, "-m", "secretkit", "hook", "install"],
        cwd=tmp_git_repo,
        check=True,
        capture_output=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    (tmp_git_repo / "host.nix").write_text(leaky_nix("first"))
    git(tmp_git_repo, "add", "host.nix")
    proc = subprocess.run(
        ["git", "commit", "-m", "first"], cwd=tmp_git_repo, capture_output=True, text=True, env=env
    )
    assert proc.returncode != 0
    assert "host.nix:3:" in proc.stdout + proc.stderr
    unborn = subprocess.run(["git", "rev-parse", "--verify", "-q", "HEAD"], cwd=tmp_git_repo)
    assert unborn.returncode != 0


def test_a_large_file_is_scanned_whole(hook_repo: HookRepo) -> None:
    token = fake.github_token("big")
    hook_repo.write("big.txt", "x = 1\n" * 400_000 + f"GH={token}\n")  # 2.4 MB
    hook_repo.stage("big.txt")
    proc = hook_repo.commit()
    assert proc.returncode != 0
    assert "big.txt:400001:" in proc.stdout + proc.stderr


def test_a_password_hash_is_a_warning_not_a_block(hook_repo: HookRepo) -> None:
    """As check lists it: crackable offline, but not the password itself."""
    hashed = fake.sha512_crypt_like("hash-warning")
    path = "hosts/observer/users.nix"
    hook_repo.write(path, f'{{ users.users.alice.hashedPassword = "{hashed}"; }}\n')
    hook_repo.stage(path)
    passed = hook_repo.commit()
    out = passed.stdout + passed.stderr
    assert passed.returncode == 0, out
    assert hashed not in out
    if hook_repo.mode == "plain-git":  # (pre-commit shows a passing hook's output only verbose)
        assert "warning:" in out and "password hash" in out


def test_the_fix_for_a_one_line_secret_file_works_as_printed(hook_repo: HookRepo) -> None:
    """Its last step removes the staged file too (a plain `git rm` refuses it)."""
    hook_repo.write("restic-password.txt", fake.password("restic-file") + "\n")
    hook_repo.stage("restic-password.txt")
    hook_repo.run_printed_fix(r"then `(git rm -f [^`]+)`")
    assert hook_repo.commit("--allow-empty").returncode == 0
    assert not (hook_repo.root / "restic-password.txt").exists()


def test_before_the_first_commit_no_fingerprint_is_offered(tmp_git_repo: Path) -> None:
    """Fingerprints are keyed by the first commit: one printed before it would stop
    allowing the value once that commit exists.  The way out printed works."""
    from secretkit.commands.hook import render, run_hook

    (tmp_git_repo / "fixture.json").write_text('{"token": "' + fake.github_token("f") + '"}\n')
    git(tmp_git_repo, "add", "fixture.json")
    lines = render(run_hook(tmp_git_repo))
    text = "\n".join(lines)
    assert "sk2:" not in text and "first commit" in text
    command = re.search(r"\((git rm --cached [^)]+)\)", text)
    assert command, text
    subprocess.run(command.group(1), shell=True, cwd=tmp_git_repo, check=True)
    assert git(tmp_git_repo, "status", "--short").strip() == "?? fixture.json"


def test_the_fix_for_a_tampered_new_sops_file_works_as_printed(hook_repo: HookRepo) -> None:
    """HEAD does not hold it: `git checkout HEAD -- FILE` cannot restore it."""
    rel = "secrets/observer.yaml"
    data = (hook_repo.root / rel).read_text()
    git(hook_repo.root, "rm", "-q", rel)
    git(hook_repo.root, "commit", "-q", "--no-verify", "-m", "drop it")
    start = data.index("data:") + len("data:")
    hook_repo.write(rel, data[:start] + ("B" if data[start] != "B" else "C") + data[start + 1 :])
    hook_repo.stage(rel)
    hook_repo.run_printed_fix(r"a file HEAD does not hold: (git rm [^,]+?), then")
    assert git(hook_repo.root, "status", "--short", "--", rel).strip() == ""


def test_a_decrypted_copy_no_rule_names_is_blocked_and_its_fix_works(hook_repo: HookRepo) -> None:
    """A *.decrypted.* copy, and a sops file at a path no rule names (a catch-all rule's
    repository) staged over with its plaintext: check finds both; so does the hook,
    with fixes that work as printed."""
    from secretkit.sops import document, operations
    from secretkit.sops.identities import load_identities

    rel = "secrets/observer.yaml"
    encrypted = (hook_repo.root / rel).read_bytes()
    identities = load_identities({"SOPS_AGE_KEY_FILE": hook_repo.env["SOPS_AGE_KEY_FILE"]})
    plain = document.dump_plain(operations.decrypt_bytes(encrypted, "yaml", identities))
    copy = "web.decrypted.yml"
    hook_repo.write(copy, plain)
    hook_repo.stage(copy)
    hook_repo.run_printed_fix(r"unstage and delete it: (git rm [^(]+?) \(", "decrypted copy")
    assert not (hook_repo.root / copy).exists()

    other = "vault/web.yaml"  # encrypted, where no creation rule looks
    hook_repo.write(other, encrypted)
    git(hook_repo.root, "add", other)
    git(hook_repo.root, "commit", "-q", "--no-verify", "-m", "vault")
    hook_repo.write(other, plain)
    hook_repo.stage(other)
    hook_repo.run_printed_fix(
        r"put the encrypted version back: (git restore [^;]+);", "staged without its encryption"
    )
    assert (hook_repo.root / other).read_bytes() == encrypted
    assert git(hook_repo.root, "status", "--short", "--", other).strip() == ""


def test_a_copy_with_the_keys_of_a_sops_file_is_blocked_and_its_fix_works(
    hook_repo: HookRepo,
) -> None:
    """helper-127: `secretkit decrypt secrets/web.yaml > backup/values.yaml` went into
    history through the hook, though check --source-only tells it by its keys alone."""
    from secretkit.sops import document, operations
    from secretkit.sops.identities import load_identities

    rel = "secrets/observer.yaml"
    identities = load_identities({"SOPS_AGE_KEY_FILE": hook_repo.env["SOPS_AGE_KEY_FILE"]})
    plain = operations.decrypt_bytes((hook_repo.root / rel).read_bytes(), "yaml", identities)
    copy = "backup/values.yaml"
    hook_repo.write(copy, document.dump_plain(plain))
    hook_repo.stage(copy)
    hook_repo.run_printed_fix(
        r"unstage and delete it: (git rm [^(]+?) \(", f"has exactly the keys of the sops file {rel}"
    )
    assert not (hook_repo.root / copy).exists()
    # a YAML file with other keys is no copy
    hook_repo.write("backup/other.yaml", "unrelated: true\n")
    hook_repo.stage("backup/other.yaml")
    proc = hook_repo.commit()
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_finding_another_module_of_the_host_blocks_is_not_sent_to_migrate(
    tmp_git_repo: Path,
) -> None:
    """An impermanence-style module of the same host sets ``hashedPasswordFile``
    already: migrate refuses the password (a second definition would conflict), so the
    hook's fix names migrate's refusal and the manual route, as check's does (it once
    judged the staged file alone and said "run `secretkit migrate`")."""
    (tmp_git_repo / "flake.nix").write_text(
        '{\n  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";\n'
        "  outputs = { nixpkgs, ... }: {\n    nixosConfigurations.box = "
        "nixpkgs.lib.nixosSystem { modules = [ ./host.nix ./keep.nix ]; };\n  };\n}\n"
    )
    (tmp_git_repo / "keep.nix").write_text(
        '{ users.users.alice.hashedPasswordFile = "/persist/alice.pw"; }\n'
    )
    (tmp_git_repo / "host.nix").write_text("{ }\n")
    commit_all(tmp_git_repo, "base")
    password = fake.password("hook-initial")
    (tmp_git_repo / "host.nix").write_text(
        '{ users.users.alice.initialPassword = "' + password + '"; }\n'
    )
    git(tmp_git_repo, "add", "host.nix")
    proc = subprocess.run(
        [sys.executable, "-m", "secretkit", "hook", "--", "host.nix"],
        cwd=tmp_git_repo, capture_output=True, text=True, check=False,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "host.nix:1:" in out
    assert "run `secretkit migrate`" not in out
    assert "hashedPasswordFile is already set in keep.nix:1" in out
    assert "mkpasswd -m sha-512 | secretkit set" in out
    assert "neededForUsers = true;" in out
    assert password not in out
