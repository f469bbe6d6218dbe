"""`secretkit purge` on repositories whose old commits hold secrets.

Afterwards `secretkit scan --history` must be clean, the backup ref must still hold
the old commits, and the listed names must be the ones that were committed.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, commit_all, git, need_tool
from tests.support import fake

TOKEN = fake.pushover_token("purge")
USER_KEY = fake.pushover_user_key("purge")
PHRASE = fake.passphrase("purge")

OBSERVER_LEAKY = f"""\
{{ config, ... }}:
{{
  services.prometheus.alertmanager.configuration.receivers = [
    {{
      name = "pushover";
      pushover_configs = [
        {{
          token = "{TOKEN}";
          user_key = "{USER_KEY}";
        }}
      ];
    }}
  ];
  services.borgbackup.jobs.home.encryption.passphrase = "{PHRASE}";
}}
"""

OBSERVER_MIGRATED = """\
{ config, ... }:
{
  services.prometheus.alertmanager.configuration.receivers = [
    {
      name = "pushover";
      pushover_configs = [
        {
          token_file = config.sops.secrets."alertmanager/pushover/token".path;
          user_key_file = config.sops.secrets."alertmanager/pushover/user_key".path;
        }
      ];
    }
  ];
  services.borgbackup.jobs.home.encryption.passCommand =
    "cat ${config.sops.secrets.borg.path}";
}
"""


def cli(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "secretkit", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        input=stdin if stdin is not None else "",
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )


def all_refs(repo: Path) -> str:
    return git(repo, "for-each-ref", "--format=%(objectname) %(refname)")


@pytest.fixture
def leaky_repo(tmp_git_repo: Path) -> Path:
    need_tool("git-filter-repo")
    repo = tmp_git_repo
    (repo / "hosts" / "observer").mkdir(parents=True)
    (repo / "hosts" / "observer" / "default.nix").write_text(OBSERVER_LEAKY)
    (repo / "README.md").write_text("homelab\n")
    commit_all(repo, "observer with alerts")
    git(repo, "tag", "v1")
    (repo / "hosts" / "observer" / "default.nix").write_text(OBSERVER_MIGRATED)
    commit_all(repo, "move secrets to sops")
    return repo


@pytest.mark.slow
def test_purge_rewrites_history_keeps_a_backup_and_lists_what_to_rotate(leaky_repo: Path) -> None:
    repo = leaky_repo
    old_head = git(repo, "rev-parse", "HEAD").strip()
    before = cli(repo, "scan", "--history")
    assert before.returncode == 1

    proc = cli(repo, "purge", "--yes")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    for name in (
        "services.prometheus.alertmanager.configuration.receivers.[0].pushover_configs.[0].token",
        "services.prometheus.alertmanager.configuration.receivers.[0].pushover_configs.[0].user_key",
        "services.borgbackup.jobs.home.encryption.passphrase",
    ):
        assert name in out
    for value in (TOKEN, USER_KEY, PHRASE):
        assert value not in out
    assert "no remote is configured" in out

    # the backup still holds the old commits, and nothing else was touched
    backups = [
        line.split()
        for line in all_refs(repo).splitlines()
        if line.split()[1].startswith("refs/secretkit/backup/")
    ]
    backup = {name: sha for sha, name in backups}
    (prefix,) = {"/".join(name.split("/")[:4]) for name in backup}
    assert backup[f"{prefix}/HEAD"] == old_head
    assert backup[f"{prefix}/heads/main"] == old_head
    old_blob = git(repo, "show", f"{prefix}/tags/v1:hosts/observer/default.nix")
    assert TOKEN in old_blob
    new_blob = git(repo, "show", "v1:hosts/observer/default.nix")
    assert TOKEN not in new_blob
    assert "***REDACTED-BY-SECRETKIT***" in new_blob
    assert git(repo, "rev-parse", "HEAD").strip() != old_head
    assert (repo / "hosts" / "observer" / "default.nix").read_text() == OBSERVER_MIGRATED
    assert git(repo, "status", "--porcelain") == ""

    # `scan --history` sees the rewritten history clean: the backup (local, kept on
    # purpose, never pushed by --all/--tags) is not part of what it scans.
    scanned = cli(repo, "scan", "--history", "--format", "json")
    assert scanned.returncode == 0, scanned.stdout
    assert json.loads(scanned.stdout)["findings"] == []
    check = cli(repo, "check", "--format", "json")
    # `check` does not pass while the local backup still holds the secrets: it names
    # the command that drops it (beside the warning that the values are not rotated).
    checks = json.loads(check.stdout)["checks"]
    (history,) = [c for c in checks if c["id"] == "plaintext-history" and not c["warning"]]
    assert not history["ok"], history
    assert history["message"].startswith("refs/secretkit/backup/")
    assert history["fix"].startswith("remove it: git for-each-ref --format='delete %(refname)'")
    drop = git(repo, "for-each-ref", "--format=delete %(refname)", "refs/secretkit/backup/")
    git(repo, "update-ref", "--stdin", input=drop.encode())
    after = cli(repo, "scan", "--history")
    assert after.returncode == 0, after.stdout
    check = cli(repo, "check", "--format", "json")
    history = [c for c in json.loads(check.stdout)["checks"] if c["id"] == "plaintext-history"]
    assert all(c["ok"] for c in history), history
    # ... but the purged values were never rotated: the record purge kept says so
    (warned,) = [c for c in history if c["warning"]]
    assert warned["message"].startswith(
        "warning: 3 value(s) were committed in plaintext before a purge and not rotated"
    )
    assert TOKEN not in check.stdout + check.stderr


def test_purge_shows_the_force_push_for_each_remote(leaky_repo: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-local", str(leaky_repo), str(clone)], check=True)
    proc = cli(clone, "purge", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert "git push --force --all origin" in proc.stdout
    assert "git push --force --tags origin" in proc.stdout


def test_purge_refuses_a_dirty_tree(leaky_repo: Path) -> None:
    refs = all_refs(leaky_repo)
    (leaky_repo / "README.md").write_text("edited\n")
    proc = cli(leaky_repo, "purge", "--yes")
    assert proc.returncode == 3
    assert "uncommitted changes" in proc.stderr
    assert "README.md" in proc.stderr
    assert all_refs(leaky_repo) == refs


def test_purge_refuses_a_history_with_missing_blobs_and_says_how_to_fetch_them(
    leaky_repo: Path,
) -> None:
    """A stranger's clone lacked one blob: purge ran git-filter-repo, which stopped with
    "fast-import: dumping crash report".  purge now says which blob, and the refetch."""
    (leaky_repo / "notes.txt").write_text("nothing here\n")
    commit_all(leaky_repo, "notes")
    (leaky_repo / "notes.txt").write_text("changed\n")
    commit_all(leaky_repo, "notes changed")
    oid = git(leaky_repo, "rev-parse", "HEAD~1:notes.txt").strip()
    (leaky_repo / ".git" / "objects" / oid[:2] / oid[2:]).unlink()
    refs = all_refs(leaky_repo)
    proc = cli(leaky_repo, "purge", "--yes")
    assert proc.returncode == 3, proc.stderr
    assert "1 blob(s) of the history are missing from this clone (" in proc.stderr
    assert ":notes.txt)" in proc.stderr and "fetch the missing objects (" in proc.stderr
    assert "crash report" not in proc.stderr
    assert all_refs(leaky_repo) == refs


def test_purge_without_yes_and_without_a_terminal_asks_for_yes(leaky_repo: Path) -> None:
    refs = all_refs(leaky_repo)
    proc = cli(leaky_repo, "purge")
    assert proc.returncode == 2
    assert "--yes" in proc.stderr
    assert all_refs(leaky_repo) == refs


def test_purge_on_a_clean_history_changes_nothing(tmp_git_repo: Path) -> None:
    (tmp_git_repo / "a.nix").write_text('{ networking.hostName = "observer"; }\n')
    commit_all(tmp_git_repo)
    refs = all_refs(tmp_git_repo)
    proc = cli(tmp_git_repo, "purge", "--yes")
    assert proc.returncode == 0
    assert "nothing to purge" in proc.stdout
    assert all_refs(tmp_git_repo) == refs


def test_purge_says_when_the_allowlist_key_changed(leaky_repo: Path) -> None:
    (leaky_repo / ".secretkit-allow").write_text("# false positives\n")
    commit_all(leaky_repo, "allowlist")
    proc = cli(leaky_repo, "purge", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert "fingerprints no longer match" in proc.stdout


def test_purge_replaces_the_bytes_as_written_when_nix_escapes_them(tmp_git_repo: Path) -> None:
    need_tool("git-filter-repo")
    value = fake.password("escaped")
    escaped = value[:5] + "\\$" + value[5:]  # Nix "\$" is "$": the blob differs from the value
    nix = tmp_git_repo / "host.nix"
    nix.write_text(f'{{ services.foo.password = "{escaped}"; }}\n')
    commit_all(tmp_git_repo, "leak")
    nix.write_text("{ services.foo.passwordFile = config.sops.secrets.foo.path; }\n")
    commit_all(tmp_git_repo, "fix")
    proc = cli(tmp_git_repo, "purge", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    old = git(tmp_git_repo, "show", "HEAD~1:host.nix")
    assert escaped not in old
    assert value[5:] not in old
    assert '"***REDACTED-BY-SECRETKIT***"' in old


def _purge_on_a_terminal(repo: Path, answer: bytes) -> tuple[int, bytes]:
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "secretkit", "purge"],
        cwd=repo,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    os.close(follower)
    output = b""
    answered = False
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            proc.kill()
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        if not answered and b"[y/N]" in output:
            os.write(leader, answer + b"\n")
            answered = True
    os.close(leader)
    return proc.wait(timeout=60), output


def test_purge_asks_on_a_terminal_and_no_changes_nothing(leaky_repo: Path) -> None:
    refs = all_refs(leaky_repo)
    code, output = _purge_on_a_terminal(leaky_repo, b"n")
    assert b"Rewrite history now" in output
    assert code != 0
    assert all_refs(leaky_repo) == refs
    assert TOKEN.encode() not in output


def test_purge_asks_on_a_terminal_and_yes_rewrites(leaky_repo: Path) -> None:
    code, output = _purge_on_a_terminal(leaky_repo, b"y")
    assert code == 0, output.decode(errors="replace")
    assert b"history rewritten" in output
    assert b"scanning history:" in output  # the progress display, on a terminal only


def test_purge_deletes_the_fingerprint_cache_of_the_values_it_removes(leaky_repo: Path) -> None:
    """The hook's fingerprint cache could confirm a guess of a purged value quickly:
    purge deletes it with the history it rewrites."""
    from secretkit.scan import allowlist

    allow = allowlist.load(leaky_repo)
    allow.fingerprint(PHRASE)
    allow.save_fingerprints()
    cache = leaky_repo / ".git" / "secretkit" / allowlist.CACHE_NAME
    assert cache.is_file()
    proc = cli(leaky_repo, "purge", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert not cache.exists()


def test_a_short_value_is_replaced_only_where_it_was_found(tmp_git_repo: Path) -> None:
    """A stranger's purge replaced the root password nixos in every file and commit:
    `inputs.disko.***REDACTED-BY-SECRETKIT***Modules.disko`, a broken flake.lock, and
    an allowed line of the same value.  A short value is replaced on the lines it was
    found on only; a long one (generated) wherever it occurs, as before."""
    need_tool("git-filter-repo")
    repo = tmp_git_repo
    token, short = fake.github_token("purge-anywhere"), "nixos"
    (repo / "a.nix").write_text(
        f'{{ users.users.root.password = "{short}"; services.x.token = "{token}"; }}\n'
    )
    untouched = (
        "{ inputs, ... }: {\n  imports = [ inputs.disko.nixosModules.disko ];\n"
        f'  networking.hostName = "{short}";\n'
        f'  users.users.installer.password = "{short}"; # secretkit: allow\n}}\n'
    )
    (repo / "b.nix").write_text(untouched)
    (repo / "notes.txt").write_text(f"the old token was {token}\n")
    commit_all(repo, "leak")
    (repo / "a.nix").write_text("{ }\n")
    (repo / "notes.txt").write_text("rotated\n")
    commit_all(repo, "fix")
    proc = cli(repo, "purge", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (repo / "b.nix").read_text() == untouched
    assert git(repo, "show", "HEAD~1:b.nix") == untouched
    assert git(repo, "show", "HEAD~1:a.nix") == (
        '{ users.users.root.password = "***REDACTED-BY-SECRETKIT***"; '
        'services.x.token = "***REDACTED-BY-SECRETKIT***"; }\n'
    )
    # the generated token goes wherever it was, also where no rule found it
    assert (
        git(repo, "show", "HEAD~1:notes.txt") == "the old token was ***REDACTED-BY-SECRETKIT***\n"
    )
    assert cli(repo, "scan", "--history").returncode == 0


def test_an_allowlisted_value_is_not_called_left_in_the_rewritten_history(
    tmp_git_repo: Path,
) -> None:
    """After the rewrite the root commit changes, and with it the key of the
    allowlist's fingerprints: a value allowed before was reported as "still in the
    rewritten history" (exit 1).  It was never to be purged; the note says to re-create
    its entry."""
    need_tool("git-filter-repo")
    repo = tmp_git_repo
    kept, leaked = fake.password("allowed-kept"), fake.password("purged-one")
    (repo / "a.nix").write_text(
        f'{{ services.x.password = "{kept}";\n  services.y.password = "{leaked}"; }}\n'
    )
    commit_all(repo, "leak")
    report = json.loads(cli(repo, "scan", "--format", "json").stdout)
    allowed = [f["fingerprint"] for f in report["findings"] if f["line"] == 1]
    (repo / ".secretkit-allow").write_text(allowed[0] + "\n")
    (repo / "a.nix").write_text(f'{{ services.x.password = "{kept}"; }}\n')
    commit_all(repo, "allow one, remove the other")
    proc = cli(repo, "purge", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "still in the rewritten history" not in proc.stderr
    assert "fingerprints no longer match" in proc.stdout
    assert leaked not in git(repo, "log", "-p", "refs/heads/main", "--", "a.nix")


def test_purge_says_first_when_head_still_uses_a_value(tmp_git_repo: Path) -> None:
    """pinpox/nixos (a stranger's run): purge replaced the values HEAD still used, so
    `initialPassword` became the marker in the work tree, and nothing said so."""
    need_tool("git-filter-repo")
    repo = tmp_git_repo
    (repo / "a.nix").write_text(OBSERVER_LEAKY)
    commit_all(repo, "leaky")
    plan = cli(repo, "purge", "--yes")
    assert plan.returncode in (0, 1), plan.stderr
    assert "warning: 1 file(s) of HEAD still hold such a value (a.nix)" in plan.stderr
    assert "move those values into sops first (`secretkit migrate`" in plan.stderr
    assert "***REDACTED-BY-SECRETKIT***" in (repo / "a.nix").read_text()
    # check said "ok plaintext-tree" of the configuration now holding the marker
    checked = cli(repo, "check", "--source-only", "--format", "json")
    tree = [r for r in json.loads(checked.stdout)["checks"] if r["id"] == "plaintext-tree"]
    assert [r["ok"] for r in tree] == [False, False, False]
    assert all("a.nix:" in r["message"] and "purge put in place" in r["message"] for r in tree)


def test_purge_after_the_values_left_head_says_nothing_of_it(leaky_repo: Path) -> None:
    proc = cli(leaky_repo, "purge", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert "still hold" not in proc.stderr


def test_a_value_head_keeps_on_an_allowed_line_stays_there(tmp_git_repo: Path) -> None:
    """pinpox/nixos (a stranger's re-run): a value flagged in an old commit and kept in
    HEAD on a line marked `secretkit: allow` was replaced there too (a value that long is
    replaced wherever it occurs), breaking the line the user had judged."""
    need_tool("git-filter-repo")
    repo = tmp_git_repo
    value = fake.password("allowed-long") + fake.password("allowed-tail")
    assert len(value) >= 16
    (repo / "a.nix").write_text(f'{{\n  services.x.password = "{value}";\n}}\n')
    commit_all(repo, "flagged")
    kept = f'{{\n  services.x.password = "{value}"; # secretkit: allow\n  other = 1;\n}}\n'
    (repo / "a.nix").write_text(kept)
    short = "pinpox"  # a short value: only its own lines are rewritten
    (repo / "users.nix").write_text(f'{{ users.users.{short}.initialPassword = "{short}"; }}\n')
    commit_all(repo, "allowed now")
    (repo / "users.nix").write_text(f"{{ users.users.{short}.isNormalUser = true; }}\n")
    commit_all(repo, "password gone")
    proc = cli(repo, "purge", "--yes")
    assert proc.returncode in (0, 1), proc.stderr
    assert (repo / "a.nix").read_text() == kept
    assert "still hold" not in proc.stderr  # (nothing of HEAD is rewritten)
    old = git(repo, "show", "HEAD~2:a.nix")
    assert value not in old and "***REDACTED-BY-SECRETKIT***" in old
