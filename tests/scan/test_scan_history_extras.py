"""History is more than file contents: commit and tag messages, tags pointing straight
at a blob or a tree, git notes and symlink targets are scanned by `scan --history`;
`purge` rewrites messages and notes and names what it cannot rewrite; `check` fails on
what remains with the command that removes it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from secretkit.commands.check import run_check
from secretkit.scan.history import scan_history
from tests.conftest import commit_all, git, need_tool
from tests.support import fake


def _base(repo: Path) -> str:
    (repo / "host.nix").write_text("{ }\n")
    return commit_all(repo, "base")


def _found(repo: Path) -> list[tuple[str, str]]:
    return sorted((f.path, f.secret.reveal()) for f in scan_history(repo).findings)


def test_commit_message(tmp_git_repo: Path) -> None:
    _base(tmp_git_repo)
    token = fake.github_token("msg")
    (tmp_git_repo / "host.nix").write_text("{ x = 1; }\n")
    sha = commit_all(tmp_git_repo, f"deploy\n\nused GH={token} to test")
    (finding,) = scan_history(tmp_git_repo).findings
    assert (finding.path, finding.commit, finding.secret.reveal()) == (
        "(commit message)",
        sha,
        token,
    )


def test_a_commit_message_is_read_whole_past_a_nul_byte(tmp_git_repo: Path) -> None:
    """git log ends a message at a NUL byte (a commit object made by hand can hold
    one, and a push sends it whole): the message is read from the commit object, so
    a secret after the NUL is found."""
    base = _base(tmp_git_repo)
    token = fake.github_token("nul")
    tree = git(tmp_git_repo, "rev-parse", "HEAD^{tree}").strip()
    body = (
        f"tree {tree}\nparent {base}\nauthor t <t@t> 1700000000 +0000\n"
        f"committer t <t@t> 1700000000 +0000\n\nrotate creds\0{token}\nnothing else\n"
    )
    sha = git(
        tmp_git_repo, "hash-object", "-t", "commit", "-w", "--stdin", "--literally",
        input=body.encode(),
    ).strip()  # fmt: skip
    git(tmp_git_repo, "update-ref", "HEAD", sha)
    (finding,) = scan_history(tmp_git_repo).findings
    assert (finding.path, finding.commit, finding.secret.reveal()) == (
        "(commit message)",
        sha,
        token,
    )


def test_annotated_tag_message(tmp_git_repo: Path) -> None:
    _base(tmp_git_repo)
    token = fake.github_token("tagmsg")
    git(tmp_git_repo, "tag", "-a", "v1", "-m", f"release; token {token}")
    assert _found(tmp_git_repo) == [("(message of refs/tags/v1)", token)]


def test_tags_of_a_blob_and_of_a_tree(tmp_git_repo: Path) -> None:
    _base(tmp_git_repo)
    value = fake.password("tagblob")
    blob = git(
        tmp_git_repo, "hash-object", "-w", "--stdin", input=f"DB_PASSWORD={value}\n".encode()
    )
    git(tmp_git_repo, "tag", "keyblob", blob.strip())
    token = fake.github_token("tagtree")
    (tmp_git_repo / "sub").mkdir()
    (tmp_git_repo / "sub" / "deploy.sh").write_text(f"GH={token}\n")
    git(tmp_git_repo, "add", "sub")
    tree = git(tmp_git_repo, "write-tree", "--prefix=sub/").strip()
    git(tmp_git_repo, "reset", "-q")
    (tmp_git_repo / "sub" / "deploy.sh").unlink()
    git(tmp_git_repo, "tag", "-a", "snapshot", "-m", "a tree", tree)
    assert _found(tmp_git_repo) == [
        ("(refs/tags/keyblob)", value),
        ("(refs/tags/snapshot):deploy.sh", token),
    ]
    failed = [
        r for r in run_check(tmp_git_repo).results if r.id == "plaintext-history" and not r.ok
    ]
    fixes = sorted(r.fix.split("delete the tag: ")[1].split(" (")[0] for r in failed)
    assert fixes == ["git tag -d keyblob", "git tag -d snapshot"]


def test_notes_and_symlink_targets(tmp_git_repo: Path) -> None:
    _base(tmp_git_repo)
    token = fake.github_token("note")
    git(tmp_git_repo, "notes", "add", "-m", f"ci token {token}")
    link_token = fake.github_token("link")
    os.symlink(f"/srv/{link_token}", tmp_git_repo / "link")
    commit_all(tmp_git_repo, "link")
    values = [value for _path, value in _found(tmp_git_repo)]
    assert sorted(values) == sorted([token, link_token])


def test_purge_rewrites_messages_and_notes_and_names_what_it_cannot(tmp_git_repo: Path) -> None:
    need_tool("git-filter-repo")
    from secretkit.commands.purge import apply_purge, plan_purge

    _base(tmp_git_repo)
    in_message = fake.github_token("purge-msg")
    (tmp_git_repo / "host.nix").write_text("{ x = 1; }\n")
    commit_all(tmp_git_repo, f"oops GH={in_message}")
    in_note = fake.github_token("purge-note")
    git(tmp_git_repo, "notes", "add", "-m", f"token {in_note}")
    in_tag = fake.github_token("purge-tag")
    git(tmp_git_repo, "tag", "-a", "v1", "-m", f"release with {in_tag}")
    value = fake.password("purge-tagblob")
    blob = git(
        tmp_git_repo, "hash-object", "-w", "--stdin", input=f"DB_PASSWORD={value}\n".encode()
    )
    git(tmp_git_repo, "tag", "keyblob", blob.strip())
    result = apply_purge(plan_purge(tmp_git_repo))
    assert result.unrewritten == [
        ("tag keyblob points straight at content holding a secret", "git tag -d keyblob")
    ]
    assert result.remaining == []
    log = git(tmp_git_repo, "log", "--exclude=refs/secretkit/*", "--all", "--format=%B")
    assert in_message not in log and "***REDACTED-BY-SECRETKIT***" in log
    notes = git(tmp_git_repo, "log", "-p", "refs/notes/commits")
    assert in_note not in notes
    tag = git(tmp_git_repo, "cat-file", "tag", "v1")
    assert in_tag not in tag and "***REDACTED-BY-SECRETKIT***" in tag
    assert _found(tmp_git_repo) == [("(refs/tags/keyblob)", value)]


def test_purge_refuses_a_detached_head(tmp_git_repo: Path) -> None:
    from secretkit.commands.purge import plan_purge
    from secretkit.errors import UserError

    first = _base(tmp_git_repo)
    (tmp_git_repo / "host.nix").write_text(f'{{ password = "{fake.password("detached")}"; }}\n')
    commit_all(tmp_git_repo)
    git(tmp_git_repo, "checkout", "-q", "--detach", first)
    with pytest.raises(UserError) as info:
        plan_purge(tmp_git_repo)
    assert "HEAD is detached" in info.value.message
    assert "git switch" in (info.value.hint or "")
