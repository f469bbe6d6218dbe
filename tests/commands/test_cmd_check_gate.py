"""`check` passes only what it verified: one test per hole of the gate.

Each case is a real git repository in a temp dir; the gate runs in process
(``run_check``) and the test reads the plaintext points' results.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from secretkit.commands.check import CheckResult, render, run_check
from tests.conftest import ROOT, commit_all, git, need_tool, shallow_past_a_token
from tests.support import fake

POINTS = ("plaintext-tree", "plaintext-history")


def results(repo: Path, point: str) -> list[CheckResult]:
    return [r for r in run_check(repo).results if r.id == point]


def failures(repo: Path, point: str) -> list[CheckResult]:
    return [r for r in results(repo, point) if not r.ok]


def _shell(repo: Path, command: str) -> None:
    subprocess.run(command, shell=True, cwd=repo, check=True, capture_output=True)


def _secretkit(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "secretkit", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )


def test_a_latin1_env_file_with_a_token_fails_the_tree(tmp_git_repo: Path) -> None:
    token = fake.github_token("latin1")
    (tmp_git_repo / "app.env").write_bytes(f"# caf\xe9\nGH={token}\n".encode("latin-1"))
    commit_all(tmp_git_repo)
    (failed,) = failures(tmp_git_repo, "plaintext-tree")
    assert failed.message.startswith("plaintext secret app.env:2:")
    assert token not in failed.message + failed.fix


def test_a_utf16_env_file_with_a_password_fails_the_tree(tmp_git_repo: Path) -> None:
    value = fake.password("utf16-gate")
    (tmp_git_repo / "app.env").write_bytes(f"DB_PASSWORD={value}\n".encode("utf-16"))
    commit_all(tmp_git_repo)
    assert [r.paths for r in failures(tmp_git_repo, "plaintext-tree")] == [("app.env",)]


def test_an_unreadable_blob_is_cannot_verify_until_vouched_for(tmp_git_repo: Path) -> None:
    (tmp_git_repo / "notes.txt").write_text("nothing here\n")
    commit_all(tmp_git_repo)
    (tmp_git_repo / "notes.txt").write_text("changed\n")
    commit_all(tmp_git_repo)
    oid = git(tmp_git_repo, "rev-parse", "HEAD~1:notes.txt").strip()
    (tmp_git_repo / ".git" / "objects" / oid[:2] / oid[2:]).unlink()
    (failed,) = failures(tmp_git_repo, "plaintext-history")
    assert failed.message.startswith("cannot verify: ")
    assert failed.message.endswith(":notes.txt (its content is missing from the git object store)")
    assert "echo 'path:notes.txt' >> .secretkit-allow" in failed.fix
    assert render(run_check(tmp_git_repo))[-1].startswith("NOT safe to publish")
    (tmp_git_repo / ".secretkit-allow").write_text("path:notes.txt\n")
    commit_all(tmp_git_repo)
    assert failures(tmp_git_repo, "plaintext-history") == []


def test_a_partial_clone_gets_its_blobs_back_as_the_fix_says(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    """A blob:none clone (ryan4yin's corpus copy) was told `git fetch --refetch`, which
    applies the filter again and brings back nothing; the fix lifts it for one fetch."""
    for i in range(3):
        (tmp_git_repo / "notes.txt").write_text(f"version {i}\n")
        commit_all(tmp_git_repo, f"v{i}")
    git(tmp_git_repo, "config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--filter=blob:none", f"file://{tmp_git_repo}", str(clone)],
        check=True,
    )
    away = tmp_path / "away"
    tmp_git_repo.rename(away)  # (the remote out of reach: git cannot fetch them lazily)
    failed = [r for r in failures(clone, "plaintext-history") if "missing" in r.message]
    assert failed, "the clone was meant to lack old blobs"
    fix = failed[0].fix
    assert "git -c remote.origin.partialclonefilter= fetch --refetch origin" in fix
    away.rename(tmp_git_repo)  # back in reach: the fix, as printed, brings them
    _shell(clone, fix.split("(", 1)[1].split(")", 1)[0])
    tmp_git_repo.rename(away)
    assert failures(clone, "plaintext-history") == []
    away.rename(tmp_git_repo)


def test_a_missing_blob_beside_a_committed_secret_still_lets_the_point_run(
    tmp_git_repo: Path,
) -> None:
    """A partial clone (a wallpaper's blob absent) that also committed a secret: the
    point reports the secret and the blob it cannot read (which commits still reach a
    finding's blob is asked of git: a missing blob once made that ask fail, and the
    whole point with it)."""
    value = fake.password("partial-clone")
    (tmp_git_repo / "host.nix").write_text(f'{{ users.users.a.password = "{value}"; }}\n')
    (tmp_git_repo / "wallpaper.png").write_bytes(b"\x89PNG not really\n")
    commit_all(tmp_git_repo)
    (tmp_git_repo / "wallpaper.png").write_bytes(b"\x89PNG another\n")
    commit_all(tmp_git_repo)
    oid = git(tmp_git_repo, "rev-parse", "HEAD~1:wallpaper.png").strip()
    (tmp_git_repo / ".git" / "objects" / oid[:2] / oid[2:]).unlink()
    messages = sorted(f.message for f in failures(tmp_git_repo, "plaintext-history"))
    assert len(messages) == 2, messages
    assert messages[0].startswith("a secret was committed: users.users.a.password")
    assert messages[1].startswith("cannot verify: ")
    assert messages[1].endswith(":wallpaper.png (its content is missing from the git object store)")


def test_purge_backup_refs_fail_the_gate_until_removed(tmp_git_repo: Path) -> None:
    need_tool("git-filter-repo")
    from secretkit.commands.purge import apply_purge, plan_purge

    value = fake.password("backup-gate")
    (tmp_git_repo / "host.nix").write_text(f'{{ users.users.a.password = "{value}"; }}\n')
    commit_all(tmp_git_repo)
    (tmp_git_repo / "host.nix").write_text("{ }\n")
    commit_all(tmp_git_repo)
    apply_purge(plan_purge(tmp_git_repo))
    (failed,) = failures(tmp_git_repo, "plaintext-history")
    assert failed.message.startswith("refs/secretkit/backup/")
    assert "still holds 1 secret(s): users.users.a.password" in failed.message
    command = failed.fix.removeprefix("remove it: ")
    assert command.startswith("git for-each-ref --format='delete %(refname)' refs/secretkit/")
    _shell(tmp_git_repo, command)
    assert git(tmp_git_repo, "for-each-ref", "refs/secretkit/") == ""
    assert failures(tmp_git_repo, "plaintext-history") == []


def test_a_stash_holding_a_secret_fails_with_stash_clear(tmp_git_repo: Path) -> None:
    (tmp_git_repo / "host.nix").write_text("{ }\n")
    commit_all(tmp_git_repo)
    value = fake.password("stash-gate")
    (tmp_git_repo / "host.nix").write_text(f'{{ services.x.password = "{value}"; }}\n')
    git(tmp_git_repo, "stash", "-q")
    (failed,) = failures(tmp_git_repo, "plaintext-history")
    assert failed.message.startswith("refs/stash still holds 1 secret(s)")
    assert failed.fix == "remove it: git stash clear"
    _shell(tmp_git_repo, "git stash clear")
    assert failures(tmp_git_repo, "plaintext-history") == []


def test_a_note_holding_a_secret_fails_with_its_removal(tmp_git_repo: Path) -> None:
    (tmp_git_repo / "host.nix").write_text("{ }\n")
    commit_all(tmp_git_repo)
    token = fake.github_token("note-gate")
    git(tmp_git_repo, "notes", "add", "-m", f"deploy with {token}")
    (failed,) = failures(tmp_git_repo, "plaintext-history")
    assert failed.message.startswith("refs/notes/commits still holds 1 secret(s)")
    assert failed.fix == "remove it: git update-ref -d refs/notes/commits"
    _shell(tmp_git_repo, failed.fix.removeprefix("remove it: "))
    assert failures(tmp_git_repo, "plaintext-history") == []


def test_another_local_ref_holding_a_secret_fails_with_its_removal(tmp_git_repo: Path) -> None:
    (tmp_git_repo / "host.nix").write_text("{ }\n")
    base = commit_all(tmp_git_repo)
    value = fake.password("orig-gate")
    (tmp_git_repo / "host.nix").write_text(f'{{ services.x.password = "{value}"; }}\n')
    leaked = commit_all(tmp_git_repo)
    git(tmp_git_repo, "update-ref", "refs/original/refs/heads/main", leaked)
    git(tmp_git_repo, "reset", "-q", "--hard", base)
    (failed,) = failures(tmp_git_repo, "plaintext-history")
    assert failed.fix == "remove it: git update-ref -d refs/original/refs/heads/main"


def test_a_password_hash_is_a_warning_not_a_failure(tmp_git_repo: Path) -> None:
    hashed = fake.sha512_crypt_like("gate")
    (tmp_git_repo / "host.nix").write_text(f'{{ users.users.a.hashedPassword = "{hashed}"; }}\n')
    commit_all(tmp_git_repo)
    for point in POINTS:
        got = results(tmp_git_repo, point)
        assert all(r.ok for r in got)
        (warning,) = [r for r in got if r.warning]
        assert "password hash" in warning.message
    lines = render(run_check(tmp_git_repo))
    assert any(
        line.startswith("warn plaintext-tree: warning: password hash host.nix:1:") for line in lines
    )


FLAKE = """{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/@REF@";
  outputs = { nixpkgs, ... }: {
    nixosConfigurations.box = nixpkgs.lib.nixosSystem { modules = [ ./host.nix ]; };
  };
}
"""


@pytest.mark.parametrize(
    ("source", "ref", "migrates"),
    [
        ('{ services.grafana.settings.security.admin_password = "@V@"; }', "nixos-24.05", True),
        ('{ x = let p = "@V@"; in p; some.random.password = "@V@"; }', "nixos-24.05", False),
        # the route exists only from 24.11: migrate refuses it on a 24.05 pin
        ('{ networking.wireless.networks.home.psk = "@V@"; }', "nixos-24.05", False),
        ('{ networking.wireless.networks.home.psk = "@V@"; }', "nixos-24.11", True),
    ],
)
def test_the_fix_sends_to_migrate_only_what_migrate_accepts(
    tmp_git_repo: Path, source: str, ref: str, migrates: bool
) -> None:
    from secretkit.plan.advice import migrate_refusal, repo_pin
    from secretkit.scan.one_file import scan_bytes

    value = fake.password("advice")
    data = source.replace("@V@", value).encode()
    (tmp_git_repo / "host.nix").write_bytes(data)
    (tmp_git_repo / "flake.nix").write_text(FLAKE.replace("@REF@", ref))
    commit_all(tmp_git_repo)
    found = failures(tmp_git_repo, "plaintext-tree")
    assert found
    findings, _ = scan_bytes("host.nix", data)
    pin = repo_pin(lambda name: (tmp_git_repo / name).read_bytes() if name == "flake.nix" else None)
    for failed, finding in zip(found, findings, strict=True):
        advice = migrate_refusal("host.nix", data, finding, pin)
        refusal = advice.reason if advice is not None else None
        assert (refusal is None) == migrates
        if migrates:
            assert "run `secretkit migrate`" in failed.fix
        else:
            assert "run `secretkit migrate`" not in failed.fix
            assert f"`secretkit migrate` cannot move this one ({refusal})" in failed.fix
    proc = subprocess.run(
        [sys.executable, "-m", "secretkit", "migrate", "--dry-run"],
        cwd=tmp_git_repo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    # what the fix says is what migrate does
    assert ("cannot migrate safely" not in proc.stderr) == migrates, proc.stderr


def test_the_fix_for_a_file_no_host_imports_does_not_send_to_migrate(tmp_git_repo: Path) -> None:
    (tmp_git_repo / "flake.nix").write_text(FLAKE.replace("@REF@", "nixos-24.11"))
    (tmp_git_repo / "host.nix").write_text("{ }\n")
    stray = '{ services.grafana.settings.security.admin_password = "@V@"; }'
    (tmp_git_repo / "stray.nix").write_text(stray.replace("@V@", fake.password("stray")))
    commit_all(tmp_git_repo)
    (failed,) = failures(tmp_git_repo, "plaintext-tree")
    assert "run `secretkit migrate`" not in failed.fix
    assert "cannot move this one (no host configuration imports this file)" in failed.fix


def test_the_fix_does_not_send_to_migrate_what_another_module_of_the_host_blocks(
    tmp_git_repo: Path,
) -> None:
    """An impermanence-style module of the same host sets ``hashedPasswordFile``
    already: migrate refuses the password (a second definition would conflict), so
    the fix must not say "run `secretkit migrate`" (it once judged the one file alone)."""
    flake = FLAKE.replace("@REF@", "nixos-24.11").replace("./host.nix ]", "./host.nix ./keep.nix ]")
    (tmp_git_repo / "flake.nix").write_text(flake)
    password = fake.password("initial")
    (tmp_git_repo / "host.nix").write_text(
        '{ users.users.alice.initialPassword = "' + password + '"; }\n'
    )
    (tmp_git_repo / "keep.nix").write_text(
        '{ users.users.alice.hashedPasswordFile = "/persist/alice.pw"; }\n'
    )
    commit_all(tmp_git_repo)
    (failed,) = failures(tmp_git_repo, "plaintext-tree")
    assert "run `secretkit migrate`" not in failed.fix
    assert "hashedPasswordFile is already set in keep.nix:1" in failed.fix
    # what hashedPasswordFile reads (a crypt hash, decrypted before users are made)
    assert "store its crypt hash with `mkpasswd -m sha-512 | secretkit set" in failed.fix
    assert 'declare sops.secrets."<name>" with neededForUsers = true;' in failed.fix
    assert password not in failed.fix
    proc = subprocess.run(
        [sys.executable, "-m", "secretkit", "migrate", "--dry-run"],
        cwd=tmp_git_repo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "host.nix:1: cannot migrate safely: users.users.alice.hashedPasswordFile" in proc.stderr
    # the dry run's steps: the hash is stored, never the password
    assert "mkpasswd -m sha-512 | secretkit set secrets/box.yaml" in proc.stderr
    assert "(type or pipe the value on stdin)" not in proc.stderr
    assert "neededForUsers = true;" in proc.stderr


def test_the_fix_for_a_password_migrate_refuses_stores_its_crypt_hash(tmp_git_repo: Path) -> None:
    """A user password the route refuses (hashedPasswordFile set as well): the fix must
    not say to store the password where a hash is read, nor forget neededForUsers."""
    (tmp_git_repo / "flake.nix").write_text(FLAKE.replace("@REF@", "nixos-24.11"))
    password = fake.password("refused-initial")
    (tmp_git_repo / "host.nix").write_text(
        '{ users.users.alice.initialPassword = "' + password + '";\n'
        '  users.users.alice.hashedPasswordFile = "/persist/alice.pw"; }\n'
    )
    commit_all(tmp_git_repo)
    (failed,) = failures(tmp_git_repo, "plaintext-tree")
    assert "hashedPasswordFile is set as well" in failed.fix
    assert "store its crypt hash with `mkpasswd -m sha-512 | secretkit set" in failed.fix
    assert 'declare sops.secrets."<name>" with neededForUsers = true;' in failed.fix
    assert "store the value" not in failed.fix
    assert password not in failed.fix


def test_two_committed_values_under_one_name_in_one_file_are_told_apart(
    tmp_git_repo: Path,
) -> None:
    """Two secrets in one TOML file (named by their rule alone) once gave two identical
    lines; each now shows its preview and the line it was found at."""
    config = tmp_git_repo / "systems" / "garage" / "garage.toml"
    config.parent.mkdir(parents=True)
    rpc, admin = fake.password("garage-rpc"), fake.password("garage-admin")
    config.write_text(f'rpc_secret = "{rpc}"\nadmin_token = "{admin}"\n')
    commit_all(tmp_git_repo)
    config.write_text("# moved to sops\n")
    commit_all(tmp_git_repo)
    messages = [f.message for f in failures(tmp_git_repo, "plaintext-history")]
    assert len(messages) == 2 and len(set(messages)) == 2, messages
    assert any("garage.toml:1 " in m for m in messages), messages
    assert any("garage.toml:2 " in m for m in messages), messages
    assert all(rpc not in m and admin not in m for m in messages)


def test_a_shallow_clone_cannot_verify_its_history_until_deepened(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    token = fake.github_token("shallow-gate")
    clone = shallow_past_a_token(tmp_git_repo, tmp_path / "clone", token)
    (failed,) = failures(clone, "plaintext-history")
    assert failed.message.startswith("cannot verify: this is a shallow clone")
    git(clone, "fetch", "-q", "--unshallow")  # the fix, as printed
    (failed,) = failures(clone, "plaintext-history")
    assert failed.message.startswith("a secret was committed: github-token")


def test_a_graft_file_cannot_verify_until_turned_into_replace_refs(tmp_git_repo: Path) -> None:
    (tmp_git_repo / "b.env").write_text(f"TOKEN={fake.github_token('grafted')}\n")
    commit_all(tmp_git_repo, "token")
    (tmp_git_repo / "b.env").unlink()
    (tmp_git_repo / "README.md").write_text("hi\n")
    head = commit_all(tmp_git_repo, "gone")
    (tmp_git_repo / ".git" / "info" / "grafts").write_text(head + "\n")  # HEAD: no parent
    (failed,) = failures(tmp_git_repo, "plaintext-history")
    assert failed.message.startswith("cannot verify: .git/info/grafts")
    git(tmp_git_repo, "replace", "--convert-graft-file")  # the fix, as printed
    (failed,) = failures(tmp_git_repo, "plaintext-history")
    assert failed.message.startswith("a secret was committed: github-token")


def test_a_secret_only_on_a_remote_tracking_branch_names_it_and_its_fix_works(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    """The clone never checked the branch out: purge (local branches and tags) would not
    touch it, so the fix deletes it on the remote, which drops the tracking ref too."""
    (tmp_git_repo / "host.nix").write_text("{ }\n")
    commit_all(tmp_git_repo)
    git(tmp_git_repo, "checkout", "-q", "-b", "feature")
    (tmp_git_repo / "b.nix").write_text(f'{{ token = "{fake.github_token("remote-only")}"; }}\n')
    commit_all(tmp_git_repo)
    git(tmp_git_repo, "checkout", "-q", "-")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(tmp_git_repo), str(clone))
    (failed,) = failures(clone, "plaintext-history")
    assert "only on origin/feature" in failed.message, failed.message
    assert "purge" not in failed.fix
    _shell(clone, failed.fix.split(" and here: ", 1)[1])  # as printed
    assert failures(clone, "plaintext-history") == []
    assert "feature" not in git(tmp_git_repo, "branch", "--list")


def test_a_branch_squash_merged_into_main_is_not_called_remote_only(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    """A squash merge adds the branch's blob to main in a commit of its own; the finding
    names the oldest commit that added it (the branch's).  "only on origin/feature" and
    its fix (delete the branch) left the secret in main (a stranger followed it): main
    holds it, so the fix is the purge."""
    (tmp_git_repo / "host.nix").write_text("{ }\n")
    commit_all(tmp_git_repo)
    git(tmp_git_repo, "checkout", "-q", "-b", "feature")
    (tmp_git_repo / "b.nix").write_text(f'{{ token = "{fake.github_token("squashed")}"; }}\n')
    commit_all(tmp_git_repo, "on the branch")
    git(tmp_git_repo, "checkout", "-q", "-")
    git(tmp_git_repo, "merge", "-q", "--squash", "feature")
    commit_all(tmp_git_repo, "squashed")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(tmp_git_repo), str(clone))
    (failed,) = failures(clone, "plaintext-history")
    assert "only on" not in failed.message, failed.message
    assert failed.fix.startswith("rotate it at its provider, then `secretkit purge --yes`")


def test_after_a_purge_the_remote_branch_is_pushed_over_not_deleted(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    """Purged here, not pushed yet: origin/main alone holds the secret.  The fix said to
    delete main on the remote (everyone's branch); the purged main pushed over it is
    the way out, and it works as printed."""
    need_tool("git-filter-repo")
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    (tmp_git_repo / "host.nix").write_text("{ }\n")
    commit_all(tmp_git_repo)
    (tmp_git_repo / "b.nix").write_text(f'{{ token = "{fake.github_token("pushed")}"; }}\n')
    commit_all(tmp_git_repo)
    (tmp_git_repo / "b.nix").write_text("{ }\n")
    commit_all(tmp_git_repo)
    git(tmp_git_repo, "remote", "add", "origin", str(origin))
    git(tmp_git_repo, "push", "-q", "-u", "origin", "main")
    purged = _secretkit(tmp_git_repo, "purge", "--yes")
    assert purged.returncode == 0, purged.stderr
    (failed,) = [f for f in failures(tmp_git_repo, "plaintext-history") if "only on" in f.message]
    assert "only on origin/main" in failed.message
    assert "--delete" not in failed.fix
    command = failed.fix.split("push the purged branch over it: ", 1)[1]
    assert command == "git push --force origin main"
    _shell(tmp_git_repo, command)  # as printed
    assert not [f for f in failures(tmp_git_repo, "plaintext-history") if "only on" in f.message]
    assert "main" in git(origin, "branch", "--list")


def test_a_linked_worktrees_head_holding_a_secret_is_named_and_removed(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    (tmp_git_repo / "host.nix").write_text("{ }\n")
    commit_all(tmp_git_repo)
    (tmp_git_repo / "b.nix").write_text(f'{{ token = "{fake.github_token("worktree")}"; }}\n')
    commit_all(tmp_git_repo)
    git(tmp_git_repo, "worktree", "add", "-q", "--detach", "../wt", "HEAD")
    git(tmp_git_repo, "reset", "-q", "--hard", "HEAD~1")
    (failed,) = failures(tmp_git_repo, "plaintext-history")
    assert failed.message.startswith("worktree ../wt's HEAD still holds 1 secret(s)")
    assert failed.fix == "remove it: git worktree remove ../wt"
    _shell(tmp_git_repo, failed.fix.removeprefix("remove it: "))
    assert failures(tmp_git_repo, "plaintext-history") == []


def test_the_purge_fix_of_a_committed_secret_runs_as_printed(tmp_git_repo: Path) -> None:
    need_tool("git-filter-repo")
    (tmp_git_repo / "b.nix").write_text(f'{{ token = "{fake.github_token("purge-fix")}"; }}\n')
    commit_all(tmp_git_repo)
    (tmp_git_repo / "b.nix").write_text("{ }\n")
    commit_all(tmp_git_repo)
    (failed,) = failures(tmp_git_repo, "plaintext-history")
    command = failed.fix.split("`")[1]
    assert command.startswith("secretkit purge")
    proc = _secretkit(tmp_git_repo, *command.split()[1:])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    left = failures(tmp_git_repo, "plaintext-history")  # purge's backup, until deleted
    assert all(f.message.startswith("refs/secretkit/backup/") for f in left), left


def test_the_hand_fix_names_the_one_hosts_file(tmp_git_repo: Path) -> None:
    """migrate's by-hand step said `secretkit set secrets/web.yaml …`; check's fix for
    the same finding said `secrets/<host>.yaml` though one host uses the file."""
    (tmp_git_repo / "flake.nix").write_text(
        "{ outputs = { nixpkgs, ... }: { nixosConfigurations.web = nixpkgs.lib.nixosSystem "
        "{ modules = [ ./web.nix ]; }; }; }\n"
    )
    (tmp_git_repo / "web.nix").write_text(
        f'{{ networking.hostName = "web"; myservice.token = "{fake.github_token("one")}"; }}\n'
    )
    commit_all(tmp_git_repo)
    (failed,) = failures(tmp_git_repo, "plaintext-tree")
    assert "`secretkit set secrets/web.yaml '[\"<name>\"]'`" in failed.fix
    assert "<host>" not in failed.fix
