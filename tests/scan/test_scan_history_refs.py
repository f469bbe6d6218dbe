"""What refs publish besides commits: a tag of a tag (read through to the blob, every
tag message on the way), refs outside ``refs/tags`` that point at a blob or a tree
(``git push --mirror`` sends them), and a ref git cannot walk: never an empty history
passed as clean.  Each fix ``check`` prints is run as printed."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from secretkit.commands.check import run_check
from secretkit.errors import HistoryUnreadable
from secretkit.scan.history import scan_history
from tests.conftest import commit_all, git
from tests.support import fake


def _blob(repo: Path, text: str) -> str:
    return git(repo, "hash-object", "-w", "--stdin", input=text.encode()).strip()


def _paths(repo: Path) -> list[str]:
    return sorted(f.path for f in scan_history(repo).findings)


def _history_failures(repo: Path) -> list[tuple[str, str]]:
    return [(c.message, c.fix) for c in run_check(repo).failed if c.id == "plaintext-history"]


def _run_fix(repo: Path, fix: str) -> None:
    """Run the command a fix names (between "delete the …: " and the remote part)."""
    command = fix.split(": ", 1)[1].split(" (and on each remote", 1)[0]
    subprocess.run(command, shell=True, cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(committed_repo: Path) -> Path:
    return committed_repo


def test_a_tag_of_a_tag_is_read_through(repo: Path) -> None:
    blob = _blob(repo, f"GITHUB_TOKEN={fake.github_token('nested-blob')}\n")
    git(repo, "-c", "advice.nestedTag=false", "tag", "-a", "-m", "inner", "inner", blob)
    git(repo, "-c", "advice.nestedTag=false", "tag", "-a", "-m", "outer", "outer", "inner")
    git(repo, "tag", "-d", "inner")
    message = f"deploy {fake.github_token('nested-message')}"
    git(repo, "-c", "advice.nestedTag=false", "tag", "-a", "-m", message, "inner2", "HEAD")
    git(repo, "-c", "advice.nestedTag=false", "tag", "-a", "-m", "outer2", "outer2", "inner2")
    git(repo, "tag", "-d", "inner2")
    assert _paths(repo) == ["(message of refs/tags/outer2)", "(refs/tags/outer)"]
    failures = _history_failures(repo)
    assert len(failures) == 2
    for _message, fix in failures:
        _run_fix(repo, fix)
    assert _history_failures(repo) == []


@pytest.mark.parametrize("kind", ["blob", "tree"])
def test_a_ref_outside_tags_that_holds_a_blob_or_a_tree(repo: Path, kind: str) -> None:
    blob = _blob(repo, f"GITHUB_TOKEN={fake.github_token('custom-ref')}\n")
    target = blob
    if kind == "tree":
        target = git(repo, "mktree", input=f"100644 blob {blob}\tx.env\n".encode()).strip()
    git(repo, "update-ref", "refs/custom/held", target)
    expected = "(refs/custom/held)" if kind == "blob" else "(refs/custom/held):x.env"
    assert _paths(repo) == [expected]
    ((message, fix),) = _history_failures(repo)
    assert message.startswith("ref refs/custom/held holds 1 secret(s)")
    assert "git update-ref -d refs/custom/held" in fix
    _run_fix(repo, fix)
    assert _history_failures(repo) == []


def _broken_ref(repo: Path) -> str:
    (repo / ".git" / "refs" / "custom").mkdir(parents=True)
    (repo / ".git" / "refs" / "custom" / "broken").write_text("12" * 20 + "\n")
    return "refs/custom/broken"


def _token_removed(repo: Path) -> None:
    (repo / "b.env").write_text(f"TOKEN={fake.github_token('behind-broken')}\n")
    commit_all(repo, "token")
    git(repo, "rm", "-q", "b.env")
    commit_all(repo, "rm")


@pytest.mark.parametrize("cached", [False, True])
def test_a_ref_git_cannot_walk_is_an_error_not_an_empty_history(repo: Path, cached: bool) -> None:
    _token_removed(repo)
    if cached:
        assert _paths(repo) == ["b.env"]
    _broken_ref(repo)
    with pytest.raises(HistoryUnreadable) as raised:
        scan_history(repo)
    assert "bad object refs/custom/broken" in raised.value.message
    ((message, fix),) = _history_failures(repo)
    assert message.startswith("cannot verify")
    assert fix.startswith("git update-ref -d refs/custom/broken")
    subprocess.run(shlex.split(fix.split(" (", 1)[0]), cwd=repo, check=True)
    assert _paths(repo) == ["b.env"]


def test_a_worktree_whose_head_names_no_commit(repo: Path, tmp_path: Path) -> None:
    _token_removed(repo)
    other = tmp_path / "other"
    git(repo, "worktree", "add", "-q", "--detach", str(other))
    (repo / ".git" / "worktrees" / "other" / "HEAD").write_text("34" * 20 + "\n")
    with pytest.raises(HistoryUnreadable) as raised:
        scan_history(repo)
    hint = raised.value.hint or ""
    assert hint.startswith(f"git worktree remove --force {other}")
    subprocess.run(shlex.split(hint.split(" (", 1)[0]), cwd=repo, check=True)
    assert _paths(repo) == ["b.env"]
