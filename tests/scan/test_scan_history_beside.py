"""What no blob of the history says alone: a token in the name of a path a commit ever
added, and a file a ``.nix`` blob handed to a secret option by its path (the tree scan
found both; once the files were deleted, ``scan --history`` and ``check`` said "no
secrets found" of a history that publishes them).  Each is found at the oldest commit
that added it, from a fresh walk, from the cache, and after the history grew; purge
renames the paths and rewrites the files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from secretkit.commands.check import run_check
from secretkit.scan.history import SHALLOW, SHALLOW_REASON, scan_history
from secretkit.scan.history_cache import FORMAT
from tests.conftest import ROOT, commit_all, git, need_tool
from tests.support import fake

TOKEN = fake.github_token("history-name")
KEY = fake.tailscale_auth_key("history-dir")
PW = fake.password("history-file-ref")
PW2 = fake.password("history-file-ref-2")
RESTIC = '{ ... }: {\n  services.restic.backups.b.passwordFile = "${./files/rp}";\n}\n'


def _found(repo: Path, *, use_cache: bool = True) -> list[tuple[str, str | None, str, str]]:
    report = scan_history(repo, use_cache=use_cache)
    return sorted((f.path, f.commit, f.rule, f.secret.reveal()) for f in report.findings)


def _deleted_since(repo: Path) -> tuple[str, str]:
    """A commit adding a token-named file, a token-named folder and a password file a
    Nix file hands to restic, then one deleting them all; (first, second) commit."""
    (repo / "notes").mkdir()
    (repo / "notes" / f"{TOKEN}.txt").write_text("see the name\n")
    (repo / "keys" / KEY).mkdir(parents=True)
    for name in ("a", "b"):
        (repo / "keys" / KEY / name).write_text("x\n")
    (repo / "files").mkdir()
    (repo / "files" / "rp").write_text(PW + "\n")
    (repo / "restic.nix").write_text(RESTIC)
    first = commit_all(repo, "one")
    git(repo, "rm", "-q", "-r", "notes", "keys", "files")
    (repo / "restic.nix").write_text("{ ... }: { }\n")
    return first, commit_all(repo, "two")


def _expected(first: str) -> list[tuple[str, str | None, str, str]]:
    return [
        ("(file name) keys/tske…/", first, "tailscale-auth-key", KEY),
        ("(file name) notes/ghp_….txt", first, "github-token", TOKEN),
        ("files/rp", first, "secret-file-text", PW),
    ]


def test_deleted_names_and_value_files_are_found_fresh_and_from_the_cache(
    tmp_git_repo: Path,
) -> None:
    first, _second = _deleted_since(tmp_git_repo)
    assert _found(tmp_git_repo) == _expected(first)
    cache = (tmp_git_repo / ".git" / "secretkit" / "history-cache").read_text()
    assert f'"format": {FORMAT}' in cache
    # the cache keeps a hash of a token-named path, never the name
    assert TOKEN not in cache and KEY not in cache and PW not in cache
    assert _found(tmp_git_repo) == _expected(first)  # no ref moved: all from the cache
    assert _found(tmp_git_repo, use_cache=False) == _expected(first)


def test_the_history_grown_adds_what_its_new_commits_bring(tmp_git_repo: Path) -> None:
    first, _second = _deleted_since(tmp_git_repo)
    assert _found(tmp_git_repo) == _expected(first)
    other = fake.github_token("history-name-later")
    (tmp_git_repo / f"{other}.md").write_text("x\n")
    (tmp_git_repo / "files").mkdir()
    (tmp_git_repo / "files" / "rp").write_text(PW2 + "\n")  # the old reference names it
    third = commit_all(tmp_git_repo, "three")
    assert _found(tmp_git_repo) == sorted(
        [
            *_expected(first),
            ("(file name) ghp_….md", third, "github-token", other),
            ("files/rp", third, "secret-file-text", PW2),
        ]
    )


def test_a_file_referenced_only_by_a_later_commit_is_judged_at_every_version(
    tmp_git_repo: Path,
) -> None:
    (tmp_git_repo / "files").mkdir()
    (tmp_git_repo / "files" / "rp").write_text(PW + "\n")
    (tmp_git_repo / "README.md").write_text("x\n")
    first = commit_all(tmp_git_repo, "a file nothing names yet")
    assert _found(tmp_git_repo) == []  # (one line, no name: nothing says what it is)
    (tmp_git_repo / "files" / "rp").write_text(PW2 + "\n")
    second = commit_all(tmp_git_repo, "changed")
    (tmp_git_repo / "restic.nix").write_text(RESTIC)
    commit_all(tmp_git_repo, "now restic reads it")
    # the first version was read clean by the run before: the reference still reaches it
    assert _found(tmp_git_repo) == sorted(
        [("files/rp", first, "secret-file-text", PW), ("files/rp", second, "secret-file-text", PW2)]
    )


def test_a_rewritten_history_forgets_what_it_no_longer_holds(tmp_git_repo: Path) -> None:
    (tmp_git_repo / "README.md").write_text("x\n")
    commit_all(tmp_git_repo, "base")
    (tmp_git_repo / f"{TOKEN}.txt").write_text("x\n")
    commit_all(tmp_git_repo, "named")
    assert [f[0] for f in _found(tmp_git_repo)] == ["(file name) ghp_….txt"]
    git(tmp_git_repo, "reset", "-q", "--hard", "HEAD~1")
    git(tmp_git_repo, "reflog", "expire", "--expire=now", "--all")
    assert _found(tmp_git_repo) == []


def test_check_fails_on_them_and_says_purge_and_never_prints_them(tmp_git_repo: Path) -> None:
    _deleted_since(tmp_git_repo)
    results = run_check(tmp_git_repo).results
    tree = [r for r in results if r.id == "plaintext-tree"]
    assert [r.ok for r in tree] == [True]
    failed = [r for r in results if r.id == "plaintext-history" and not r.ok]
    assert len(failed) == 3
    shown = "\n".join(r.message + r.fix for r in failed)
    assert TOKEN not in shown and KEY not in shown and PW not in shown
    assert all("`secretkit purge --yes`" in r.fix for r in failed)


def _cli(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "secretkit", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        errors="replace",  # (a name's bytes that are not UTF-8 are printed as they are)
        input="",
        env=env,
    )


def test_purge_renames_the_paths_in_every_commit_and_rewrites_the_file(
    tmp_git_repo: Path,
) -> None:
    need_tool("git-filter-repo")
    repo = tmp_git_repo
    _deleted_since(repo)
    (repo / "tokens").mkdir()
    (repo / "tokens" / f"{TOKEN}.json").write_text("{}\n")  # HEAD keeps one so named
    (repo / "host.nix").write_text(
        f"{{ ... }}: {{ environment.etc.t.source = ./tokens/{TOKEN}.json; }}\n"
    )
    commit_all(repo, "three")
    proc = _cli(repo, "purge", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert TOKEN not in proc.stdout + proc.stderr and KEY not in proc.stdout + proc.stderr
    assert "1 path(s) of HEAD are named with such a value (e.g. tokens/ghp_….json)" in proc.stderr
    # (purge's backup refs keep the old commits: not published)
    names = git(repo, "log", "--exclude=refs/secretkit/*", "--all", "--format=", "--name-only")
    assert TOKEN not in names and KEY not in names
    assert "tokens/REDACTED-BY-SECRETKIT-" in names and "keys/REDACTED-BY-SECRETKIT-" in names
    assert sorted(os.listdir(repo / "tokens")) == [
        next(n for n in names.split() if n.startswith("tokens/")).split("/")[1]
    ]
    # the module that names the path names its new one
    new_name = sorted(os.listdir(repo / "tokens"))[0]
    assert f"./tokens/{new_name};" in (repo / "host.nix").read_text()
    after = _cli(repo, "scan", "--history", "--format", "json")
    assert after.returncode == 0, after.stdout
    assert json.loads(after.stdout)["findings"] == []
    # the backup holds the old names: check says to delete it (purge has nothing to do)
    failed = [r for r in run_check(repo).results if r.id == "plaintext-history" and not r.ok]
    stamp = git(repo, "for-each-ref", "--format=%(refname)", "refs/secretkit/backup/").split("/")[3]
    assert [r.message.split(" still holds")[0] for r in failed] == [
        f"refs/secretkit/backup/{stamp}/"
    ]
    subprocess.run(["bash", "-c", failed[0].fix.removeprefix("remove it: ")], cwd=repo, check=True)
    assert next(r.ok for r in run_check(repo).results if r.id == "plaintext-history")


def test_names_with_a_line_break_or_a_byte_that_is_not_utf8_are_read_and_purged(
    tmp_git_repo: Path,
) -> None:
    need_tool("git-filter-repo")
    repo = tmp_git_repo
    other = fake.github_token("latin-1 name")
    (repo / f"notes\n{TOKEN}.txt").write_text("x\n")
    with open(bytes(repo) + b"/caf\xe9-" + other.encode() + b".txt", "w") as handle:
        handle.write("x\n")
    (repo / "README.md").write_text("x\n")
    commit_all(repo, "odd names")
    found = sorted((f.path, f.secret.reveal()) for f in scan_history(repo).findings)
    assert found == [
        ("(file name) caf\udce9-ghp_….txt", other),
        ("(file name) notes\nghp_….txt", TOKEN),
    ]
    proc = _cli(repo, "purge", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert scan_history(repo).findings == []


def test_a_module_moved_unchanged_names_the_files_beside_its_new_place(
    tmp_git_repo: Path,
) -> None:
    """`git mv restic.nix hosts/` keeps the blob: its ./files/rp is hosts/files/rp
    there, and a fresh walk judged the blob at one of its paths only."""
    repo = tmp_git_repo
    (repo / "restic.nix").write_text(RESTIC)
    (repo / "README.md").write_text("x\n")
    commit_all(repo, "module, no file yet")
    assert _found(repo) == []
    (repo / "hosts" / "files").mkdir(parents=True)
    git(repo, "mv", "restic.nix", "hosts/restic.nix")
    (repo / "hosts" / "files" / "rp").write_text(PW + "\n")
    second = commit_all(repo, "moved beside its file")
    git(repo, "rm", "-q", "-r", "hosts/files")
    commit_all(repo, "file gone")
    expected = [("hosts/files/rp", second, "secret-file-text", PW)]
    assert _found(repo) == expected  # (from the cache: the blob was read at its first place)
    assert _found(repo, use_cache=False) == expected


def test_a_shallow_clone_s_history_scan_says_what_it_could_not_read(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    (tmp_git_repo / "a.txt").write_text("a\n")
    commit_all(tmp_git_repo, "one")
    (tmp_git_repo / "b.txt").write_text("b\n")
    commit_all(tmp_git_repo, "two")
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{tmp_git_repo}", str(clone)], check=True
    )
    report = scan_history(clone)
    assert [(s.path, s.reason) for s in report.skipped] == [(SHALLOW, SHALLOW_REASON)]
    proc = _cli(clone, "scan", "--history")
    assert proc.returncode == 0 and "no secrets found" not in proc.stdout + proc.stderr
    failed = [r for r in run_check(clone).results if r.id == "plaintext-history" and not r.ok]
    assert [r.message for r in failed] == [
        "cannot verify: this is a shallow clone; the history behind its boundary was not read"
    ]


def test_a_tree_a_tag_points_at_is_read_for_names_and_value_files(tmp_git_repo: Path) -> None:
    """A snapshot no commit holds: its names and the files its modules name were not
    read (only each file's content), so check said safe of a published tag."""
    repo = tmp_git_repo
    (repo / "README.md").write_text("x\n")
    commit_all(repo, "base")
    snap = repo.parent / "snap"
    (snap / "files").mkdir(parents=True)
    (snap / "files" / "rp").write_text(PW + "\n")
    (snap / "host.nix").write_text(RESTIC)
    (snap / f"{KEY}.conf").write_text("x\n")
    env = dict(os.environ, GIT_INDEX_FILE=str(repo.parent / "snap.idx"))
    subprocess.run(["git", f"--work-tree={snap}", "add", "-A", "."], cwd=repo, env=env, check=True)
    tree = subprocess.run(
        ["git", "write-tree"], cwd=repo, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    git(repo, "tag", "snap", tree)
    assert _found(repo) == [
        ("(refs/tags/snap):(file name) tske….conf", None, "tailscale-auth-key", KEY),
        ("(refs/tags/snap):files/rp", None, "secret-file-text", PW),
    ]
    failed = [r for r in run_check(repo).results if r.id == "plaintext-history" and not r.ok]
    assert [r.fix.split("delete the tag: ")[1].split(" (")[0] for r in failed] == [
        "git tag -d snap"
    ]


def test_a_value_file_that_is_a_symbolic_link_is_judged_where_it_points(
    tmp_git_repo: Path,
) -> None:
    repo = tmp_git_repo
    (repo / "real").mkdir()
    (repo / "real" / "data").write_text(PW + "\n")
    (repo / "files").mkdir()
    os.symlink("../real/data", repo / "files" / "rp")
    (repo / "restic.nix").write_text(RESTIC)
    first = commit_all(repo, "a link to the password")
    git(repo, "rm", "-q", "-r", "files", "real")
    commit_all(repo, "gone")
    assert _found(repo) == [("real/data", first, "secret-file-text", PW)]


def test_purge_tells_two_values_of_one_file_apart_by_their_previews(tmp_git_repo: Path) -> None:
    need_tool("git-filter-repo")
    repo = tmp_git_repo
    (repo / "files").mkdir()
    (repo / "files" / "rp").write_text(PW + "\n")
    (repo / "restic.nix").write_text(RESTIC)
    commit_all(repo, "one")
    (repo / "files" / "rp").write_text(PW2 + "\n")
    commit_all(repo, "two")
    git(repo, "rm", "-q", "-r", "files")
    commit_all(repo, "gone")
    proc = _cli(repo, "purge", "--yes")
    assert proc.returncode == 0, proc.stderr
    for value in (PW, PW2):
        assert f"  secret-file-text '{value[:3]}…' in files/rp:1\n" in proc.stdout


def test_a_token_in_an_author_committer_or_tagger_is_found_and_purged(
    tmp_git_repo: Path,
) -> None:
    need_tool("git-filter-repo")
    repo = tmp_git_repo
    (repo / "README.md").write_text("x\n")
    git(repo, "add", "-A")
    author = dict(os.environ, GIT_AUTHOR_NAME=f"deploy {TOKEN}")
    subprocess.run(["git", "commit", "-qm", "one"], cwd=repo, env=author, check=True)
    first = git(repo, "rev-parse", "HEAD").strip()
    other = fake.github_token("committer")
    (repo / "README.md").write_text("y\n")
    git(repo, "add", "-A")
    env = dict(os.environ, GIT_COMMITTER_EMAIL=f"{other}@users.noreply.github.com")
    subprocess.run(["git", "commit", "-qm", "two"], cwd=repo, env=env, check=True)
    second = git(repo, "rev-parse", "HEAD").strip()
    found = _found(repo)
    assert sorted((c, r, v) for _p, c, r, v in found) == sorted(
        [(first, "github-token", TOKEN), (second, "github-token", other)]
    )
    assert all(p.startswith("(author) ") and "ghp_…" in p for p, *_rest in found)
    assert _found(repo) == found  # (no ref moved: the cache's commits read again)
    proc = _cli(repo, "purge", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert TOKEN not in proc.stdout + proc.stderr
    names = git(repo, "log", "--exclude=refs/secretkit/*", "--all", "--format=%an <%ae> %cn <%ce>")
    assert TOKEN not in names and other not in names and "REDACTED-BY-SECRETKIT-" in names
    assert _found(repo) == []


def test_a_token_in_a_ref_s_name_is_a_history_finding(tmp_git_repo: Path) -> None:
    (tmp_git_repo / "README.md").write_text("x\n")
    commit_all(tmp_git_repo, "one")
    git(tmp_git_repo, "branch", f"wip/{TOKEN}")
    assert _found(tmp_git_repo) == [
        ("(ref name) refs/heads/wip/ghp_…", None, "github-token", TOKEN)
    ]
    failed = [
        r for r in run_check(tmp_git_repo).results if r.id == "plaintext-history" and not r.ok
    ]
    assert [r.message.split(":")[0] for r in failed] == ["a ref's name holds a secret"]


VALUES = '{\n  wifi = "@PSK@";\n  smtp = "@SMTP@";\n}\n'
FLAKE = """{
  outputs = { nixpkgs, ... }: {
    nixosConfigurations.box = nixpkgs.lib.nixosSystem {
      specialArgs = { secrets = import ./secrets.nix; };
      modules = [ ./box.nix ];
    };
  };
}
"""
BOX = """{ secrets, ... }: {
  networking.wireless.networks.home.psk = secrets.wifi;
  programs.msmtp.accounts.default.password = secrets.smtp;
}
"""


def test_values_a_flake_hands_every_module_are_found_after_the_import_is_gone(
    tmp_git_repo: Path,
) -> None:
    """A stranger's secrets.nix, reached only through specialArgs: once a commit dropped
    the import (and the file), the history scan read HEAD's importers, found none, and
    check said safe of a history that holds the psk."""
    repo = tmp_git_repo
    psk, smtp = fake.wordy_psk("history-import"), fake.password("history-import")
    (repo / "secrets.nix").write_text(VALUES.replace("@PSK@", psk).replace("@SMTP@", smtp))
    (repo / "flake.nix").write_text(FLAKE)
    (repo / "box.nix").write_text(BOX)
    first = commit_all(repo, "values through specialArgs")
    # (check's tree scan records the blobs in the history cache: the history reads none)
    tree = [r for r in run_check(repo).results if r.id == "plaintext-tree" and not r.ok]
    assert [r.paths for r in tree] == [("secrets.nix",), ("secrets.nix",)]
    (repo / "flake.nix").write_text(
        FLAKE.replace("specialArgs = { secrets = import ./secrets.nix; };\n", "")
    )
    (repo / "box.nix").write_text("{ ... }: { }\n")
    git(repo, "rm", "-q", "secrets.nix")
    commit_all(repo, "stop using them")
    expected = sorted(
        [
            ("secrets.nix", first, "secret-attribute", psk),
            ("secrets.nix", first, "secret-attribute", smtp),
        ]
    )
    assert _found(repo) == expected  # (the cache: check's tree scan recorded the blobs)
    assert _found(repo, use_cache=False) == expected
    failed = [r for r in run_check(repo).results if r.id == "plaintext-history" and not r.ok]
    assert len(failed) == 2
