"""A token in a file's or a directory's name is published with the tree (a stranger's:
check said safe to publish).  It is reported with the name shown around its preview,
never whole, once for a directory however many files it holds; a name of words
stays quiet."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest

from secretkit.commands.check import run_check
from secretkit.scan.staged import scan_staged
from secretkit.scan.worktree import scan_tree
from tests.conftest import commit_all, git
from tests.support import fake
from tests.support.cli import run_main

ALNUM = string.ascii_letters + string.digits


def _committed_as_a_name(repo: Path, label: str) -> str:
    """A fake token, committed as the name of ``<token>.txt``."""
    token = fake.github_token(label)
    (repo / f"{token}.txt").write_text("nothing here\n")
    commit_all(repo)
    return token


def test_a_token_as_a_file_s_name_is_found_and_never_printed(
    tmp_git_repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = _committed_as_a_name(tmp_git_repo, "file-name")
    found = scan_tree(tmp_git_repo).findings
    assert [(f.path, f.rule, f.secret.reveal()) for f in found] == [
        ("(file name) ghp_….txt", "github-token", token)
    ]
    monkeypatch.chdir(tmp_git_repo)
    _code, out, err = run_main(capsys, "scan", "--format", "json", ".")
    assert token not in out + err
    assert json.loads(out)["findings"][0]["path"] == "(file name) ghp_….txt"
    (failed,) = [r for r in run_check(tmp_git_repo).results if r.id == "plaintext-tree"]
    assert not failed.ok and "rename the file without it" in failed.fix
    assert token not in failed.message + failed.fix


def test_a_directory_named_by_a_token_is_reported_once(tmp_git_repo: Path) -> None:
    token = fake.tailscale_auth_key("dir-name")
    for name in ("a", "b", "c"):
        (tmp_git_repo / "keys" / token).mkdir(parents=True, exist_ok=True)
        (tmp_git_repo / "keys" / token / name).write_text("x\n")
    commit_all(tmp_git_repo)
    found = scan_tree(tmp_git_repo).findings
    assert [f.path for f in found] == ["(file name) keys/tske…/"]


def test_the_hook_blocks_a_staged_file_so_named(tmp_git_repo: Path) -> None:
    token = fake.github_token("staged-name")
    (tmp_git_repo / f"{token}.md").write_text("x\n")
    git(tmp_git_repo, "add", "-A")
    found = scan_staged(tmp_git_repo, [f"{token}.md"]).findings
    assert [f.rule for f in found] == ["github-token"]


@pytest.mark.parametrize(
    "name",
    [
        "docs/github_token_rotation.md",
        "modules/services/tailscale-auth-key.nix",
        "keys/3f2a9c1e7b4d5a6f8e9d0c1b2a3f4e5d.pub",
        "pkgs/ghp-helper/default.nix",
    ],
)
def test_names_of_words_and_hashes_stay_quiet(tmp_path: Path, name: str) -> None:
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text("{ }\n")
    assert [f.path for f in scan_tree(tmp_path).findings if f.path.startswith("(file")] == []


def test_a_branch_or_tag_named_by_a_token_fails_the_history_point(tmp_git_repo: Path) -> None:
    token = fake.github_token("ref-name")
    (tmp_git_repo / "a.txt").write_text("x\n")
    commit_all(tmp_git_repo)
    git(tmp_git_repo, "branch", f"ci/{token}")
    git(tmp_git_repo, "tag", f"v1-{token}")
    failed = [
        r
        for r in run_check(tmp_git_repo).results
        if r.id == "plaintext-history" and r.message.startswith("a ref's name holds a secret")
    ]
    assert sorted(r.message for r in failed) == [
        "a ref's name holds a secret: refs/heads/ci/ghp_…: github-token 'ghp_…'",
        "a ref's name holds a secret: refs/tags/v1-ghp_…: github-token 'ghp_…'",
    ]
    assert all(token not in r.message + r.fix for r in failed)
    assert "git branch -m" in failed[0].fix


def test_a_token_in_a_name_is_never_printed_by_any_message_naming_the_file(
    tmp_git_repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name finding showed a preview, but every other message printing the path
    showed the token: a password found in the file, a file that could not be read, the
    allowlist line a fix wrote (a stranger's run)."""
    token = fake.github_token("named-file-content")
    (tmp_git_repo / "notes").mkdir()
    (tmp_git_repo / "notes" / f"{token}.env").write_text(f"DB_PASSWORD={fake.password('x')}\n")
    pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:" + "ab" * 32 + "\nsize 9\n"
    (tmp_git_repo / f"{token}.bin").write_text(pointer)  # (an LFS object not here)
    commit_all(tmp_git_repo)
    monkeypatch.chdir(tmp_git_repo)
    shown = ""
    for args in (
        ["scan", "."],
        ["scan", "--format", "json", "."],
        ["scan", "--history"],
        ["check"],
    ):
        _code, out, err = run_main(capsys, *args)
        shown += out + err
    assert token not in shown
    assert "notes/ghp_….env" in shown and "echo 'path:ghp_*.bin' >> .secretkit-allow" in shown
    _code, out, err = run_main(capsys, "scan", "--output", "report.json", ".")
    assert token not in (tmp_git_repo / "report.json").read_text() + out + err


def test_purge_s_dirty_tree_message_shows_a_token_in_a_name_as_its_preview(
    tmp_git_repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = _committed_as_a_name(tmp_git_repo, "dirty-name")
    (tmp_git_repo / f"{token}.txt").write_text("b\n")
    monkeypatch.chdir(tmp_git_repo)
    code, out, err = run_main(capsys, "purge", "--yes")
    assert code == 3 and token not in out + err
    assert "uncommitted changes (ghp_….txt)" in err


GLUED = [
    (f"2024{fake.github_token('glued-name')}.txt", "(file name) 2024ghp_….txt", "github-token"),
    (f"ts_{fake.tailscale_auth_key('glued-name')}", "(file name) ts_tske…", "tailscale-auth-key"),
    # (the key formats refuse a "-" or "_" before them, text's "disk-proj-…"; a name
    # puts one there: a stranger's notes-sk-proj-….txt)
    (
        "notes-sk-proj-" + fake.chars(ALNUM, 48, "openai-name") + ".txt",
        "(file name) notes-sk-p….txt",
        "openai-api-key",
    ),
    (
        "notes_sk-ant-api03-" + fake.chars(ALNUM, 93, "anthropic-name") + "AA.txt",
        "(file name) notes_sk-a….txt",
        "anthropic-api-key",
    ),
]


@pytest.mark.parametrize(("name", "shown", "rule"), GLUED)
def test_a_token_glued_to_the_rest_of_a_name_is_found(
    tmp_git_repo: Path, name: str, shown: str, rule: str
) -> None:
    (tmp_git_repo / name).write_text("x\n")
    commit_all(tmp_git_repo)
    found = [(f.path, f.rule) for f in scan_tree(tmp_git_repo).findings]
    assert found == [(shown, rule)]
