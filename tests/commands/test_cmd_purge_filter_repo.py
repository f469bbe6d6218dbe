"""The history-rewrite mechanics under `secretkit purge`: backup refs and git-filter-repo.

Real repositories and the real git-filter-repo; the values are fake, built at run time.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest

from secretkit.git.filter_repo import (
    BACKUP_NAMESPACE,
    MARKER,
    create_backup,
    expressions,
    list_refs,
    refs_to_rewrite,
    replace_text,
)
from secretkit.sensitive import Sensitive
from tests.conftest import commit_all, git, need_tool
from tests.support import fake


def blobs_of(repo: Path, *revs: str) -> bytes:
    """Every file content of every commit reachable from ``revs``, concatenated."""
    commits = git(repo, "rev-list", *revs, "--").split()
    out = []
    for c in commits:
        for name in git(repo, "ls-tree", "-r", "--name-only", c).split("\n"):
            if name:
                out.append(
                    subprocess.run(
                        ["git", "show", f"{c}:{name}"], cwd=repo, capture_output=True, check=True
                    ).stdout
                )
    return b"\n".join(out)


def test_expressions_are_literals_longest_first() -> None:
    text = expressions([b"abc", b"abcdef", b"abc", b"x==>y", b""])
    assert text.split(b"\n") == [
        b"literal:abcdef==>" + MARKER,
        b"literal:x==>y==>" + MARKER,  # git-filter-repo splits at the last ==>
        b"literal:abc==>" + MARKER,
        b"",
    ]


def test_expressions_become_regexes_when_a_value_spans_lines() -> None:
    text = expressions([b"a.c", b"line1\nline2"])
    assert text.split(b"\n") == [
        b"regex:line1\\nline2==>" + MARKER,
        b"regex:a\\.c==>" + MARKER,
        b"",
    ]


def test_backup_refs_point_at_every_ref_and_head(tmp_git_repo: Path) -> None:
    (tmp_git_repo / "a").write_text("1\n")
    first = commit_all(tmp_git_repo)
    git(tmp_git_repo, "tag", "v1")
    git(tmp_git_repo, "branch", "side")
    prefix, created = create_backup(tmp_git_repo)
    assert prefix.startswith(BACKUP_NAMESPACE)
    assert created == {
        f"{prefix}/heads/main": first,
        f"{prefix}/heads/side": first,
        f"{prefix}/tags/v1": first,
        f"{prefix}/HEAD": first,
    }
    assert {k: v for k, v in list_refs(tmp_git_repo).items() if k.startswith(prefix)} == created
    # a second backup in the same second gets its own prefix and does not back up the first
    again, created2 = create_backup(tmp_git_repo)
    assert again != prefix
    assert not any(name.startswith(f"{again}/secretkit/") for name in created2)


def test_replace_text_rewrites_branches_and_tags_but_not_backups_or_remotes(
    tmp_git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need_tool("git-filter-repo")
    token = fake.pushover_token("purge")
    phrase = fake.passphrase("purge") + "$^.*"  # regex metacharacters stay literal
    pem = "-----BEGIN FAKE KEY-----\n" + fake.hex_key(24, "pem") + "\n-----END FAKE KEY-----"
    repo = tmp_git_repo
    (repo / "observer.nix").write_text(f'{{ token = "{token}"; }}\n')
    (repo / "borg.nix").write_text(f'{{ passphrase = "{phrase}"; }}\n')
    commit_all(repo, "secrets")
    (repo / "key.pem").write_text(pem + "\n")
    commit_all(repo, "key")
    git(repo, "tag", "-a", "-m", "release", "v1")
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "side.env").write_text(f"TOKEN={token}\n")
    commit_all(repo, "side")
    git(repo, "checkout", "-q", "main")
    (repo / "observer.nix").write_text("{ token = config.sops.secrets.t.path; }\n")
    commit_all(repo, "migrated")

    # a clone whose remote-tracking refs must stay as the remote has them
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-local", str(repo), str(clone)], check=True)
    git(clone, "checkout", "-q", "-b", "side", "origin/side")
    old_remote_main = git(clone, "rev-parse", "refs/remotes/origin/main").strip()
    old_refs = list_refs(clone)

    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    prefix, backup = create_backup(clone)
    refs = refs_to_rewrite(list_refs(clone))
    assert refs == ["refs/heads/main", "refs/heads/side", "refs/tags/v1"]
    values = [Sensitive(v.encode()) for v in (token, phrase, pem)]
    replace_text(clone, values, refs)

    new_refs = list_refs(clone)
    rewritten = blobs_of(clone, *refs)
    for value in (token, phrase, pem):
        assert value.encode() not in rewritten
    assert rewritten.count(MARKER) >= 4
    assert (clone / "key.pem").read_bytes() == MARKER + b"\n"  # work tree follows
    # backups and remote-tracking refs still hold the old commits
    for name, sha in backup.items():
        assert new_refs[name] == sha
    assert new_refs["refs/remotes/origin/main"] == old_remote_main
    assert token.encode() in blobs_of(clone, f"{prefix}/heads/main")
    assert new_refs["refs/heads/main"] != old_refs["refs/heads/main"]
    assert git(clone, "cat-file", "-t", "refs/tags/v1").strip() == "tag"
    # history outside the backup namespace is what a scan sees
    visible = blobs_of(clone, "--exclude=refs/secretkit/*", "--exclude=refs/remotes/*", "--all")
    assert token.encode() not in visible
    # the expressions file and its private directory are gone
    assert list(private.iterdir()) == []
    assert not any(r.startswith("refs/replace/") for r in new_refs)


def test_replace_text_without_git_filter_repo_is_a_user_error(
    tmp_git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from secretkit.errors import UserError

    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(UserError, match="git-filter-repo is not installed"):
        replace_text(tmp_git_repo, [Sensitive(b"x")], ["refs/heads/main"])


def test_a_commit_whose_only_change_was_the_secret_is_kept(tmp_git_repo: Path) -> None:
    """Two versions of a token both become the marker: that commit's change vanishes,
    but the commit and its message stay (git-filter-repo dropped it silently)."""
    need_tool("git-filter-repo")
    old, new = fake.pushover_token("first"), fake.pushover_token("second")
    repo = tmp_git_repo
    (repo / "a.nix").write_text(f'{{ token = "{old}"; }}\n')
    commit_all(repo, "add the token")
    (repo / "a.nix").write_text(f'{{ token = "{new}"; }}\n')
    commit_all(repo, "rotate the token")
    before = git(repo, "log", "--format=%s").split("\n")
    replace_text(repo, [Sensitive(v.encode()) for v in (old, new)], ["refs/heads/main"])
    assert git(repo, "log", "--format=%s").split("\n") == before
    assert old not in blobs_of(repo, "main").decode() and new not in blobs_of(repo, "main").decode()


def test_lines_are_replaced_by_their_replacement_and_a_regex_gives_it_back_exactly() -> None:
    """A line holding a value becomes the line with the marker in its place; as a
    regex (a value spans lines), the replacement is a template whose backslashes and
    line breaks give back the bytes as they were."""
    import re

    line = b'  x.password = "ni\\$os"; # a \\1 kept'
    new = line.replace(b"ni\\$os", MARKER)
    (alone,) = [r for r in expressions([], [(line, new)]).split(b"\n") if r]
    found, template = alone[len(b"regex:") :].rsplit(b"==>", 1)
    # a whole line only: the same text inside a longer line is another line
    kept = line + b" # secretkit: allow"
    assert re.sub(found, template, b"a\n" + line + b"\n" + kept) == b"a\n" + new + b"\n" + kept
    text = expressions([b"k1\nk2"], [(line, new)])
    rules = [r for r in text.split(b"\n") if r]
    assert rules[1] == b"regex:k1\\nk2==>" + MARKER  # (longest first)
    found, template = rules[0][len(b"regex:") :].rsplit(b"==>", 1)
    assert re.sub(found, template, b"a\n" + line + b"\nb") == b"a\n" + new + b"\nb"
